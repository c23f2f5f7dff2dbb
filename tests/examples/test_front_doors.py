"""--assignment NAME|PATH on every front door: check, grade (its workers), Gradescope's zip, grader.check in Jupyter;
a spec's error rows carry its own maximum; a path or a spec that cannot be used is one line and exit 2."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import grader
from grader import assignments, cli, gradescope
from grader.batch import executors
from grader.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assignments"
SOFTMAX = EXAMPLES / "softmax_l2.py"
GOOD = (EXAMPLES / "softmax_l2_class" / "correct_loops.py").read_text()
THREE_POINT_SPEC = '''
import numpy as np
from grader.spec import Case, Loss, Spec


def half_square(x):
    return 0.5 * float(np.sum(x ** 2)), x


SPEC = Spec(name="half_square", title="Half a sum of squares", functions=[Loss("half_square", wrt="x", points=3)],
            public_cases=lambda rng: [Case("three", {"x": rng.standard_normal(3)})])
'''


def _written(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_check_takes_a_path_relative_to_where_it_runs(tmp_path, monkeypatch, capsys):
    shutil.copy(SOFTMAX, _written(tmp_path / "course" / "x", "").parent / "softmax_l2.py")
    student = _written(tmp_path / "student.py", GOOD)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", str(student), "--assignment", "course/softmax_l2.py", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["assignment"] == "softmax_l2" and result["max_score"] == 10


def test_grade_with_workers_names_the_spec_not_its_path(tmp_path):
    """Workers of their own (--jobs 2) resolve the spec themselves; rows, title and results name the spec."""
    shutil.copy(SOFTMAX, _written(tmp_path / "specs" / "x", "").parent / "softmax_l2.py")
    for student in ("ada", "grace", "alan"):
        _written(tmp_path / "class" / f"{student}.py", GOOD)
    completed = subprocess.run([sys.executable, "-m", "grader", "grade", "class", "--assignment", "specs/softmax_l2.py",
                                "--out", "out", "--jobs", "2"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [(r["submission"], r["assignment"], r["status"]) for r in results] == [
        (name, "softmax_l2", "pass") for name in ("ada", "alan", "grace")]
    index = (tmp_path / "out" / "index.html").read_text()
    assert "class · softmax_l2" in index and "specs/softmax_l2.py" not in index


def test_an_edited_spec_grades_the_class_again(tmp_path, capsys):
    spec = shutil.copy(SOFTMAX, tmp_path / "softmax_l2.py")
    _written(tmp_path / "class" / "ada.py", GOOD)
    argv = ["grade", str(tmp_path / "class"), "--assignment", str(spec), "--out", str(tmp_path / "out"), "--jobs", "1"]
    assert cli.main(argv) == 0 and cli.main(argv) == 0
    Path(spec).write_text(Path(spec).read_text().replace("seed=2026", "seed=2031"))
    assignments._get.cache_clear()  # a new run of gradgrade: the edited file is read again
    assert cli.main(argv) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "graded" in line]
    assert ["graded 1, reused 0" in line for line in lines] == [True, False, True]
    assert "graded 0, reused 1" in lines[1]


def test_a_workers_error_row_has_the_specs_maximum(tmp_path):
    spec = _written(tmp_path / "half_square.py", THREE_POINT_SPEC)
    settings = Settings(assignment=str(spec)).to_json()
    row = executors.error_dict(executors.Job("ada", "ada.py", b"", settings), "its worker died")
    assert (row["assignment"], row["max_score"], row["status"]) == ("half_square", 3, "error")


def test_a_batch_error_row_has_the_specs_maximum(tmp_path, capsys):
    spec = _written(tmp_path / "half_square.py", THREE_POINT_SPEC)
    _written(tmp_path / "class" / "ada.py", "def half_square(x):\n    return 0.5 * (x ** 2).sum(), x\n")
    (tmp_path / "class" / "grace.ipynb").write_text("{ this is not a notebook")
    assert cli.main(["grade", str(tmp_path / "class"), "--assignment", str(spec), "--out", str(tmp_path / "out"),
                     "--jobs", "1"]) == 0
    results = {r["submission"]: r for r in json.loads((tmp_path / "out" / "results.json").read_text())}
    assert (results["ada"]["status"], results["ada"]["max_score"]) == ("pass", 3)
    assert (results["grace"]["status"], results["grace"]["max_score"]) == ("error", 3)


def test_gradescope_without_a_submission_gives_the_specs_maximum(tmp_path, capsys):
    spec = _written(tmp_path / "half_square.py", THREE_POINT_SPEC)
    (tmp_path / "submission").mkdir()
    results = tmp_path / "results" / "results.json"
    assert cli.main(["gradescope", "--submission", str(tmp_path / "submission"), "--results", str(results),
                     "--assignment", str(spec)]) == 0
    document = json.loads(results.read_text())
    assert document["extra_data"]["gradgrade"]["max_score"] == 3
    assert document["extra_data"]["gradgrade"]["assignment"] == "half_square"


def test_grader_check_in_a_notebook_takes_a_spec_path(tmp_path, monkeypatch):
    (tmp_path / "student.py").write_text(GOOD)
    module_spec = importlib.util.spec_from_file_location("student_softmax", tmp_path / "student.py")
    student = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(student)
    shutil.copy(SOFTMAX, tmp_path / "softmax_l2.py")
    monkeypatch.chdir(tmp_path)  # the notebook's folder
    report = grader.check(student.softmax_loss_vectorized, assignment="softmax_l2.py")
    assert report.passed and report.result.assignment == "softmax_l2"
    assert [check.name for check in report.result.checks] == ["softmax_loss_vectorized"]
    with pytest.raises(assignments.UnknownAssignment, match="no such spec file"):
        grader.check(student.softmax_loss_vectorized, assignment="absent.py")


def test_the_gradescope_zip_carries_the_spec_and_finds_it_there(tmp_path, capsys):
    """The zip is built from a spec that is then removed: run_autograder must grade with the zip's copy."""
    spec = shutil.copy(SOFTMAX, _written(tmp_path / "mine" / "x", "").parent / "softmax_l2.py")
    wheel = tmp_path / "gradgrade-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("grader/__init__.py", "")
    out = tmp_path / "autograder.zip"
    assert cli.main(["autograder", "--assignment", str(spec), "--out", str(out), "--wheel", str(wheel)]) == 0
    shutil.rmtree(tmp_path / "mine")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(out) as archive:
        assert "spec/softmax_l2.py" in archive.namelist()
        archive.extractall(root / "source")
    run = (root / "source" / "run_autograder").read_text()
    assert '--assignment "$root/source/spec/"softmax_l2.py' in run and str(tmp_path) not in run
    _written(root / "submission" / "softmax.py", GOOD)
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADGRADE_VENV": sys.prefix}
    graded = subprocess.run([str(script)], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    assert graded.returncode == 0, graded.stderr
    document = json.loads((root / "results" / "results.json").read_text())
    assert document["score"] == 10 and document["extra_data"]["gradgrade"]["assignment"] == "softmax_l2"


@pytest.mark.parametrize("command", ["check", "grade", "gradescope", "autograder"])
def test_a_spec_path_that_does_not_exist_is_one_line_and_exit_2(command, tmp_path, capsys):
    student = _written(tmp_path / "class" / "ada.py", GOOD)
    where = {"check": [str(student)], "grade": [str(tmp_path / "class"), "--out", str(tmp_path / "out")],
             "gradescope": ["--submission", str(tmp_path / "class"), "--results", str(tmp_path / "r.json")],
             "autograder": ["--out", str(tmp_path / "a.zip")]}[command]
    assert cli.main([command, *where, "--assignment", str(tmp_path / "nope" / "spec.py")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "nope/spec.py: no such spec file" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.json").exists()


def test_the_specs_threshold_is_the_default_and_the_option_overrides_it(tmp_path, capsys):
    spec = _written(tmp_path / "half_square.py", THREE_POINT_SPEC.replace(
        "public_cases=", "threshold=1e-4, public_cases="))
    # A gradient off by 2e-6 relative: within the spec's 1e-4, not within 1e-7.
    student = _written(tmp_path / "ada.py", "def half_square(x):\n    return 0.5 * (x ** 2).sum(), x * (1 + 2e-6)\n")
    assert cli.main(["check", str(student), "--assignment", str(spec), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["checks"][0]["threshold"] == 1e-4
    assert cli.main(["check", str(student), "--assignment", str(spec), "--threshold", "1e-7"]) == 1
    capsys.readouterr()
    assert cli.main(["check", str(student), "--format", "json"]) == 1  # a built-in's default is unchanged
    assert json.loads(capsys.readouterr().out)["checks"][0]["threshold"] == 1e-7


MODEL = '''import numpy as np


def tanh_layer(X, W, b):
    return np.tanh(X @ W + b)


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4, reg=0.0):
        self.params = {"W1": std * np.random.randn(input_size, hidden_size), "b1": np.zeros(hidden_size),
                       "W2": std * np.random.randn(hidden_size, output_size), "b2": np.zeros(output_size)}
        self.reg = reg

    def loss(self, X, y=None):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        N = X.shape[0]
        h = tanh_layer(X, W1, b1)
        s = h @ W2 + b2
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(N), y])) + 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        p[np.arange(N), y] -= 1
        p /= N
        grads = {"W2": h.T @ p + self.reg * W2, "b2": p.sum(axis=0)}
        dh = p @ W2.T * (1 - h ** 2)
        grads["W1"] = X.T @ dh + self.reg * W1
        grads["b1"] = dh.sum(axis=0)
        return loss, grads
'''


@pytest.mark.parametrize("source, passed", [pytest.param(MODEL, True, id="correct"),
                                            pytest.param(MODEL.replace("(1 - h ** 2)", "(1 - h)"), False, id="tanh bug")])
def test_grader_check_takes_a_model_class_for_a_method_spec(source, passed, tmp_path, monkeypatch):
    docs = (EXAMPLES.parents[1] / "docs" / "assignments.md").read_text()
    spec = next(body for body in docs.split("```python\n") if 'name="two_layer_net"' in body).split("```")[0]
    (tmp_path / "two_layer_net.py").write_text(spec)
    (tmp_path / "model.py").write_text(source)
    module_spec = importlib.util.spec_from_file_location("student_model", tmp_path / "model.py")
    student = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(student)
    monkeypatch.chdir(tmp_path)
    report = grader.check(student.TwoLayerNet, assignment="two_layer_net.py")
    assert report.passed is passed
    (check,) = report.result.checks
    assert check.name == "TwoLayerNet.loss"
    assert {name: verdict.status.value for name, verdict in
            ((parameter.name, parameter) for parameter in check.parameters)}["W2"] == "pass"
