"""The Gradescope entry: results.json with score, output and tests in Gradescope's format."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from grader import assignments, cli, gradescope
from gradescope_spec import gradescope_problems

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "output_format", "visibility"}

def submit(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def run(tmp_path: Path, files: dict[str, bytes], *options: str) -> tuple[int, dict]:
    folder = submit(tmp_path / "submission", files)
    results = tmp_path / "results" / "results.json"
    code = cli.main(["gradescope", "--submission", str(folder), "--results", str(results), *options])
    document = json.loads(results.read_text())
    assert gradescope_problems(document) == []
    return code, document


def test_planted_bugs_results_follow_the_format(tmp_path):
    code, document = run(tmp_path, {"gradient_checking.py": (SUBMISSIONS / "planted_bugs.py").read_bytes()})
    assert code == 0
    assert isinstance(document["score"], float) and isinstance(document["output"], str)
    assert document["tests"] and all(set(test) >= TEST_KEYS for test in document["tests"])
    assert all(test["status"] in ("passed", "failed") for test in document["tests"])
    assert document["score"] == pytest.approx(sum(test["score"] for test in document["tests"]))
    backward = next(test for test in document["tests"] if test["name"] == "backward_propagation_n")
    assert backward["status"] == "failed" and 0 < backward["score"] < backward["max_score"]
    assert "dW2 is twice the true gradient" in backward["output"] and "dW2" in backward["output"]


def test_correct_backward_pass_passes(tmp_path):
    _, document = run(tmp_path, {"hw.py": (SUBMISSIONS / "correct_matmul.py").read_bytes()})
    backward = next(test for test in document["tests"] if test["name"] == "backward_propagation_n")
    assert backward["status"] == "passed" and backward["score"] == backward["max_score"]


def test_the_file_that_defines_the_function_is_graded(tmp_path):
    files = {"a_helpers.py": b"def unrelated():\n    return 1\n",
             "solution.py": (SUBMISSIONS / "correct_matmul.py").read_bytes()}
    _, document = run(tmp_path, files)
    assert document["tests"][0]["status"] == "passed"
    assert "graded solution.py" in document["output"]


def test_a_submission_handed_in_as_a_zip_is_graded_from_inside_it(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("work/solution.py", (SUBMISSIONS / "correct_matmul.py").read_bytes())
    _, document = run(tmp_path, {"submission.zip": buffer.getvalue()})
    assert document["tests"][0]["status"] == "passed"
    assert "graded submission.zip/work/solution.py, from inside the zip" in document["output"]


@pytest.mark.parametrize("files, message", [
    pytest.param({}, "no .py or .ipynb file", id="empty-submission"),
    pytest.param({"hw.py": b"\x00\x01binary"}, "binary", id="binary"),
    pytest.param({"hw.zip": b"PK not a zip", "scan.pdf": b"%PDF"},
                 "no .py or .ipynb file in the submission (it holds hw.zip, scan.pdf)", id="nothing-gradable"),
])
def test_ungradable_submission_still_writes_results(tmp_path, files, message):
    code, document = run(tmp_path, files)
    assert code == 0 and document["score"] == 0
    assert message in document["output"] or message in document["tests"][0]["output"]
    assert document["tests"][0]["status"] == "failed"


def test_a_submission_folder_that_is_not_there_says_so(tmp_path):
    results = tmp_path / "results.json"
    assert cli.main(["gradescope", "--submission", str(tmp_path / "nowhere"), "--results", str(results)]) == 0
    document = json.loads(results.read_text())
    assert gradescope_problems(document) == []
    assert document["score"] == 0 and "there is no submission folder" in document["output"]


def test_a_submission_of_only_empty_folders_is_empty(tmp_path):
    (tmp_path / "submission" / "work" / "old").mkdir(parents=True)
    code, document = run(tmp_path, {})
    assert code == 0 and document["score"] == 0 and "the submission is empty" in document["output"]


def test_defaults_are_gradescopes_paths():
    args = cli.build_parser().parse_args(["gradescope"])
    assert (args.submission, args.results) == ("/autograder/submission", "/autograder/results/results.json")


def test_unwritable_results_exit_2(tmp_path):
    folder = submit(tmp_path / "submission", {"hw.py": b"x = 1\n"})
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["gradescope", "--submission", str(folder), "--results", str(blocker / "results.json")]) == 2


@pytest.mark.parametrize("document, problem", [
    pytest.param({"score": 1, "tests": [], "feedback": "x"}, "unknown top-level key 'feedback'", id="unknown-key"),
    pytest.param({"score": "1"}, "score is str", id="score-type"),
    pytest.param({"score": 1, "visibility": "public"}, "visibility is 'public'", id="visibility"),
    pytest.param({"score": 1, "stdout_visibility": "shown"}, "stdout_visibility is 'shown'", id="stdout"),
    pytest.param({"score": 1, "output_format": "markdown"}, "output_format is 'markdown'", id="format"),
    pytest.param({"tests": [{"name": "a"}]}, "no score", id="no-score"),
    pytest.param({"score": 1, "tests": [{"status": "ok"}]}, "status 'ok'", id="status"),
    pytest.param({"score": 1, "tests": [{"number": 1}]}, "number is int", id="number-type"),
    pytest.param({"score": 1, "tests": [{"max_points": 1}]}, "unknown key 'max_points'", id="test-key"),
    pytest.param({"score": 1, "tests": [{"visibility": "later"}]}, "visibility 'later'", id="test-visibility"),
])
def test_the_validator_refuses_what_gradescope_does_not_document(document, problem):
    assert any(problem in found for found in gradescope_problems(document))


def test_every_test_carries_gradescopes_fields_numbered_in_order(tmp_path):
    _, document = run(tmp_path, {"hw.py": (SUBMISSIONS / "correct_course_style.py").read_bytes()})
    assert [test["number"] for test in document["tests"]] == [str(n) for n in range(1, len(document["tests"]) + 1)]
    assert all(set(test) == TEST_KEYS for test in document["tests"])
    assert {test["visibility"] for test in document["tests"]} == {"visible"}
    assert document["visibility"] == "visible" and document["stdout_visibility"] == "hidden"
    assert isinstance(document["execution_time"], int) and document["execution_time"] >= 0
    assert document["extra_data"]["gradgrade"]["schema"] == "gradgrade/result/v1"
    checker = next(test for test in document["tests"] if test["name"] == "gradient_check_n")
    assert "Your checker against known bugs:" in checker["output"]


def test_the_top_level_output_is_the_verdict_summary(tmp_path):
    _, document = run(tmp_path, {"gradient_checking.py": (SUBMISSIONS / "planted_bugs.py").read_bytes()})
    lines = document["output"].splitlines()
    assert lines[0].startswith("gradient_checking.py: FAIL, score ")
    assert any(line.startswith("backward_propagation_n: FAIL, ") and line.endswith(" points") for line in lines)
    assert any(line.startswith("gradient_check_n: MISSING, 0/4 points") for line in lines)


def test_hints_keep_their_cell_and_line(tmp_path):
    _, document = run(tmp_path, {"gradient_checking.ipynb": (SUBMISSIONS / "planted_bugs.ipynb").read_bytes()})
    backward = next(test for test in document["tests"] if test["name"] == "backward_propagation_n")
    assert "hint [scale-double-gradient-6] (code cell 4, line 11): dW2 is twice the true gradient" in backward["output"]


def test_messages_are_never_cut(tmp_path):
    from grader.grading import pipeline
    from grader.settings import Settings

    source = (SUBMISSIONS / "planted_bugs.py").read_bytes() + b"\nprint('x' * 9000 + ' the end')\n"
    _, document = run(tmp_path, {"hw.py": source}, "--run-all")
    backward = next(test for test in document["tests"] if test["name"] == "backward_propagation_n")
    graded = pipeline.grade_source(source, "hw.py", Settings(run_all=True), submission="hw.py", assignment=assignments.get("three_layer"))
    long_messages = [p.message for p in graded.check("backward_propagation_n").parameters if len(p.message) > 110]
    assert long_messages and all(" ".join(message.split()) in backward["output"] for message in long_messages)
    assert "…" not in backward["output"]
    assert "x" * 9000 + " the end" in document["output"]


def test_what_a_student_prints_shows_as_typed_not_as_html(tmp_path):
    source = (SUBMISSIONS / "correct_matmul.py").read_bytes() + b"\nprint('<b>bold</b> & <script>x</script>')\n"
    _, document = run(tmp_path, {"hw.py": source}, "--run-all")
    assert document["output_format"] == "simple_format"
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in document["output"] and "<b>" not in document["output"]


RUBRIC_VISIBILITY = """
[gradescope]
visibility = "after_due_date"
stdout_visibility = "after_published"
checker = "hidden"
"""


def test_the_rubric_sets_each_tests_visibility_and_stdouts(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(RUBRIC_VISIBILITY)
    _, document = run(tmp_path, {"hw.py": (SUBMISSIONS / "correct_course_style.py").read_bytes()}, "--rubric", str(rubric))
    visibility = {test["name"]: test["visibility"] for test in document["tests"]}
    assert visibility.pop("gradient_check_n") == "hidden" and visibility.pop("backward_propagation_n") == "after_due_date"
    assert set(visibility.values()) <= {"after_due_date"}  # forward_propagation_n, when graded, has the default
    assert (document["visibility"], document["stdout_visibility"]) == ("after_due_date", "after_published")


def test_an_ungradable_submission_follows_the_rubrics_visibility(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[gradescope]\nvisibility = "after_published"\n')
    _, document = run(tmp_path, {}, "--rubric", str(rubric))
    assert document["tests"][0]["visibility"] == "after_published"


@pytest.mark.parametrize("text, words", [
    pytest.param('[gradescope]\nvisibility = "public"\n',
                 'gradescope.visibility must be one of "visible", "hidden", "after_due_date", "after_published"',
                 id="value"),
    pytest.param('[gradescope]\nbackwards = "hidden"\n', "unknown key gradescope.backwards", id="key"),
    pytest.param('gradescope = "hidden"\n', "must be a table like [gradescope]", id="not-a-table"),
])
def test_a_bad_gradescope_table_is_one_line_and_exit_2(tmp_path, capsys, text, words):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(text)
    folder = submit(tmp_path / "submission", {"hw.py": b"x = 1\n"})
    assert cli.main(["gradescope", "--submission", str(folder), "--results", str(tmp_path / "r.json"),
                     "--rubric", str(rubric)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
