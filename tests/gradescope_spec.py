"""A validator for Gradescope's results.json, written from its documentation (shared by the tests)."""
from __future__ import annotations

# Gradescope's results.json as documented in "Autograder Specifications"
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format", "Controlling Test Case
# Visibility", "Test case status", "Output String Formatting"): every key either level may have, its type.
NUMBER = (int, float)
TOP_LEVEL = {"score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": str,
             "test_output_format": str, "test_name_format": str, "visibility": str, "stdout_visibility": str,
             "extra_data": dict, "tests": list, "leaderboard": list}
TEST_LEVEL = {"score": NUMBER, "max_score": NUMBER, "status": str, "name": str, "name_format": str, "number": str,
              "output": str, "output_format": str, "tags": list, "visibility": str, "extra_data": dict}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}
STATUSES = {"passed", "failed"}


def gradescope_problems(document: object) -> list[str]:
    """What in a results.json Gradescope's documentation does not allow (an empty list when it all does)."""
    if not isinstance(document, dict):
        return ["results.json is not an object"]
    problems = [f"unknown top-level key {key!r}" for key in document if key not in TOP_LEVEL]
    problems += [f"{key} is {type(value).__name__}" for key, value in document.items()
                 if key in TOP_LEVEL and (not isinstance(value, TOP_LEVEL[key]) or isinstance(value, bool))]
    problems += [f"{key} is {document[key]!r}" for key in ("visibility", "stdout_visibility")
                 if key in document and document[key] not in VISIBILITIES]
    problems += [f"{key} is {document[key]!r}" for key in ("output_format", "test_output_format", "test_name_format")
                 if key in document and document[key] not in FORMATS]
    tests = document.get("tests", [])
    if "score" not in document and not (tests and all(isinstance(t, dict) and "score" in t for t in tests)):
        problems.append("no score: neither top-level nor on every test")
    for index, test in enumerate(tests if isinstance(tests, list) else []):
        if not isinstance(test, dict):
            problems.append(f"test {index} is not an object")
            continue
        problems += [f"test {index}: unknown key {key!r}" for key in test if key not in TEST_LEVEL]
        problems += [f"test {index}: {key} is {type(value).__name__}" for key, value in test.items()
                     if key in TEST_LEVEL and (not isinstance(value, TEST_LEVEL[key]) or isinstance(value, bool))]
        if test.get("visibility", "visible") not in VISIBILITIES:
            problems.append(f"test {index}: visibility {test['visibility']!r}")
        if test.get("status", "passed") not in STATUSES:
            problems.append(f"test {index}: status {test['status']!r}")
        problems += [f"test {index}: {key} {test[key]!r}" for key in ("output_format", "name_format")
                     if key in test and test[key] not in FORMATS]
        if not all(isinstance(tag, str) for tag in test.get("tags", [])):
            problems.append(f"test {index}: a tag is not a string")
    return problems
