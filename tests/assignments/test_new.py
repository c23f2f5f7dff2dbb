"""`gradgrade new-assignment NAME`: a commented, working spec that grades, mutation-tests, and is never overwritten."""
import json
import subprocess
import sys

import pytest

from grader import assignments, cli
from grader.assignments import new

CORRECT = '''import numpy as np

def least_squares_loss(W, X, y, reg):
    N = X.shape[0]
    r = X @ W - y
    return 0.5 * (r ** 2).sum() / N + 0.5 * reg * (W ** 2).sum(), X.T @ r / N + reg * W
'''
# The gradient of the mean without its 1/N: the loss is right, dW is N times too large.
NO_MEAN = CORRECT.replace("X.T @ r / N", "X.T @ r")
# This gradgrade's mutation test cannot mutate a spec yet: the one failure that skips rather than fails.
NOT_YET = "has no attribute 'BACKWARD'"


def test_new_assignment_writes_a_spec_that_grades(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new-assignment", "least_squares"]) == 0
    assert "wrote least_squares.py" in capsys.readouterr().out
    text = (tmp_path / "least_squares.py").read_text()
    assert 'name="least_squares"' in text and text.count("\n#") >= 5  # commented for the instructor to edit
    (tmp_path / "good.py").write_text(CORRECT)
    (tmp_path / "no_mean.py").write_text(NO_MEAN)
    assert cli.main(["check", "good.py", "--assignment", "least_squares.py", "--format", "json"]) == 0
    good = json.loads(capsys.readouterr().out)
    assert (good["assignment"], good["status"], good["score"]) == ("least_squares", "pass", 10)
    assert cli.main(["check", "no_mean.py", "--assignment", "least_squares.py", "--format", "json"]) == 1
    (check,) = json.loads(capsys.readouterr().out)["checks"]
    assert {name: verdict["status"] for name, verdict in check["parameters"].items()} == {"loss": "pass", "dW": "fail"}


def test_its_cases_screen_healthy_and_the_square_ones_are_square(tmp_path):
    found = assignments.ready(str(new.write(str(tmp_path / "least_squares"))))
    assert len(found.spec_cases("course")) == 4
    for case in found.spec_cases("square"):
        (N, D), (_, K) = case.inputs["X"].shape, case.inputs["W"].shape
        assert N == D == K


@pytest.mark.parametrize("name, written", [
    pytest.param("softmax_l2", "softmax_l2.py", id="a name"),
    pytest.param("specs/mine.py", "specs/mine.py", id="a path to a .py file"),
])
def test_the_file_is_name_dot_py_or_the_path_given(name, written, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    assert new.write(name) == tmp_path.joinpath(written).relative_to(tmp_path)
    assert f'name="{written.split("/")[-1][:-3]}"' in (tmp_path / written).read_text()


def test_an_existing_file_is_never_overwritten(tmp_path, capsys):
    mine = tmp_path / "softmax_l2.py"
    mine.write_text("# my spec, three weeks of work\n")
    assert cli.main(["new-assignment", str(mine)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "softmax_l2.py exists already" in err and len(err.strip().splitlines()) == 1
    assert mine.read_text() == "# my spec, three weeks of work\n"


@pytest.mark.parametrize("name", ["", ".py", "folder/"])
def test_a_name_that_is_not_one_is_refused(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new-assignment", name]) == cli.EXIT_USAGE
    assert "is not an assignment name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_template_passes_the_mutation_test(tmp_path):
    spec = new.write(str(tmp_path / "least_squares"))
    completed = subprocess.run([sys.executable, "-m", "grader", "mutation-test", "--assignment", str(spec),
                                "--format", "json"], capture_output=True, text=True, timeout=600)
    if NOT_YET in completed.stderr:
        pytest.skip("the mutation test of spec assignments has not landed")
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert json.loads(completed.stdout)["reference"]["status"] == "pass"
