"""The Gradescope entry: results.json with score, output and tests in Gradescope's format."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from grader import cli, gradescope

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}


def submit(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def run(tmp_path: Path, files: dict[str, bytes]) -> tuple[int, dict]:
    folder = submit(tmp_path / "submission", files)
    results = tmp_path / "results" / "results.json"
    code = cli.main(["gradescope", "--submission", str(folder), "--results", str(results)])
    return code, json.loads(results.read_text())


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
