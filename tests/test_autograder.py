"""The Gradescope autograder zip: its layout and scripts, its errors, and a run as Gradescope would run it."""
from __future__ import annotations

import ast
import base64
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader import autograder, cli
from gradescope_spec import gradescope_problems

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"
RUBRIC = """
[backward]
points = 6
[checker]
reference = 1
mutants = 2
[gradescope]
visibility = "after_due_date"
checker = "visible"
stdout_visibility = "after_published"
"""

INTRODUCTION = """# Gradient Checking

You are part of a team building a model that tells whether a payment is likely to be fraudulent. Backpropagation
is hard to get right, and the team wants proof that yours is. In this assignment you check your gradients
numerically: you compare the derivatives your backward pass computes with derivatives estimated from the cost
alone, by nudging each parameter a little in each direction.

**By the end of this notebook you will be able to:**

- explain why a two-sided difference estimates a derivative better than a one-sided one,
- write a gradient check for a single parameter and for a whole network,
- tell from the size of the relative difference whether a backward pass has a bug,
- find which parameter's gradient is wrong when it has one.

Run the cells in order. Write your code only between the `### START CODE HERE ###` and `### END CODE HERE ###`
comments, and do not rename the functions: the autograder calls them by name.
"""

THEORY = """## How gradient checking works

Backpropagation computes $\\frac{\\partial J}{\\partial \\theta}$, where $\\theta$ holds the parameters and $J$ is
the cost. Forward propagation is comparatively easy to write correctly, so you can trust $J$ and use it to test
the derivative. Recall the definition of a derivative:

$$ \\frac{\\partial J}{\\partial \\theta} = \\lim_{\\varepsilon \\to 0} \\frac{J(\\theta + \\varepsilon) - J(\\theta - \\varepsilon)}{2 \\varepsilon} $$

With a small $\\varepsilon$ (say $10^{-7}$) the right-hand side is a very good estimate, `gradapprox`. You then
compare it with `grad`, the value backpropagation gave, through the relative difference

$$ difference = \\frac {\\| grad - gradapprox \\|_2}{\\| grad \\|_2 + \\| gradapprox \\|_2} $$

computed in three steps: the numerator with `np.linalg.norm`, the denominator as the sum of two norms, and their
quotient. Dividing by the sum of the norms makes the difference scale-free: it stays between 0 and 1 whatever
the size of the gradients. Below about $10^{-7}$ the two agree; around $10^{-5}$ look again; above $10^{-3}$
there is almost certainly a mistake.
"""

NETWORK = """## N-dimensional gradient checking

The network is LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID. Its parameters are stored in a dictionary,
which `dictionary_to_vector` turns into one column vector so that you can loop over every single parameter.
For each index $i$:

1. copy the vector into `thetaplus`, add $\\varepsilon$ to entry $i$, and compute the cost `J_plus[i]` with
   `forward_propagation_n` on `vector_to_dictionary(thetaplus)`;
2. do the same with $-\\varepsilon$ for `J_minus[i]`;
3. set `gradapprox[i]` to the two-sided difference of the costs.

At the end, compare `gradapprox` with the gradients of your backward pass (as a vector, through
`gradients_to_vector`). Only the cost is used: if your forward pass is right, the estimate is right.

Note that gradient checking is slow: it runs forward propagation twice per parameter. Use it to make sure the
implementation is correct, then turn it off for training. It also does not work with dropout: check with the
full network, then switch dropout on.
"""

WHAT_YOU_LEARNED = """## What you should remember

- Gradient checking compares the gradients from backpropagation with numerical estimates from the cost alone.
- A relative difference far above $10^{-7}$ means a gradient is wrong; compare parameter by parameter to find
  which.
- Gradient checking is slow, so it is not run on every iteration of training: check once, then train.
- A checker has bugs of its own: make sure yours accepts correct gradients before trusting it to reject wrong
  ones.
"""


def _function(path: Path, name: str) -> str:
    source = path.read_text()
    node = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == name)
    return ast.get_source_segment(source, node)


def course_notebook() -> bytes:
    """An nbconvert-style export of the course notebook, filled in by a student whose backward pass has the
    course's planted bugs: the markdown, magics, outputs with an image, and the student's functions."""
    correct, planted = SUBMISSIONS / "correct_course_style.py", SUBMISSIONS / "planted_bugs.py"
    image = base64.b64encode(np.random.default_rng(27).bytes(9000)).decode()
    check_output = ("\x1b[91mThere is a mistake in the backward propagation! difference = 0.2850931567761623\x1b[0m\n")
    cells = [
        nbformat.v4.new_markdown_cell(INTRODUCTION),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\nfrom testCases import *\n"
                                  "from public_tests import *\nfrom gc_utils import sigmoid, relu, dictionary_to_vector, "
                                  "vector_to_dictionary, gradients_to_vector\n\n%load_ext autoreload\n%autoreload 2"),
        nbformat.v4.new_markdown_cell(THEORY),
        nbformat.v4.new_markdown_cell(NETWORK),
        nbformat.v4.new_code_cell(_function(correct, "forward_propagation_n")),
        nbformat.v4.new_code_cell("# GRADED FUNCTION: backward_propagation_n\n\n" + _function(planted, "backward_propagation_n")),
        nbformat.v4.new_code_cell("# GRADED FUNCTION: gradient_check_n\n\n" + _function(correct, "gradient_check_n")),
        nbformat.v4.new_code_cell(
            "X, Y, parameters = gradient_check_n_test_case()\n\ncost, cache = forward_propagation_n(X, Y, parameters)\n"
            "gradients = backward_propagation_n(X, Y, cache)\n"
            "difference = gradient_check_n(parameters, gradients, X, Y, 1e-7, True)",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text=check_output),
                     nbformat.v4.new_output("display_data", data={"image/png": image, "text/plain": "<Figure>"})]),
        nbformat.v4.new_markdown_cell(WHAT_YOU_LEARNED),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"}})
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
        if cell.cell_type == "code":
            cell.execution_count = index
    return nbformat.writes(notebook).encode()


def fake_wheel(folder: Path) -> Path:
    wheel = folder / "gradgrade-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("grader/__init__.py", "")
    return wheel


def test_the_notebook_fixture_is_the_size_of_a_real_export():
    assert 15_000 <= len(course_notebook()) <= 50_000


def test_the_zip_has_gradescopes_scripts_at_its_root(tmp_path, capsys):
    rubric = tmp_path / "my rubric.toml"
    rubric.write_text(RUBRIC)
    out = tmp_path / "autograder.zip"
    assert cli.main(["autograder", "--assignment", "three_layer", "--rubric", str(rubric), "--out", str(out),
                     "--wheel", str(fake_wheel(tmp_path)), "--total-timeout", "90", "--fast"]) == cli.EXIT_PASS
    assert "wrote" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in archive.infolist()}
        run = archive.read("run_autograder").decode()
        setup = archive.read("setup.sh").decode()
        assert archive.read("rubric.toml").decode() == RUBRIC
    assert names == ["setup.sh", "run_autograder", "rubric.toml", "gradgrade-0.1.0-py3-none-any.whl"]
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755 and modes["rubric.toml"] == 0o644
    assert run.startswith("#!/usr/bin/env bash\n") and setup.startswith("#!/usr/bin/env bash\n")
    assert '${AUTOGRADER_ROOT:-/autograder}' in run and '--rubric "$root/source/rubric.toml"' in run
    assert "--assignment three_layer --total-timeout 90.0 --fast" in run and "--threshold" not in run
    assert 'pip install --quiet "$source_dir/gradgrade-0.1.0-py3-none-any.whl"' in setup
    assert "\r" not in run + setup and run.endswith("\n") and setup.endswith("\n")


def test_without_a_rubric_the_zip_grades_with_the_default_one(tmp_path):
    out = tmp_path / "autograder.zip"
    assert cli.main(["autograder", "--assignment", "one_d", "--out", str(out), "--wheel", str(fake_wheel(tmp_path))]) == 0
    with zipfile.ZipFile(out) as archive:
        assert "rubric.toml" not in archive.namelist()
        run = archive.read("run_autograder").decode()
    assert "--rubric" not in run and "--assignment one_d" in run


@pytest.mark.parametrize("spoil, words", [
    pytest.param(lambda tmp: ["--rubric", str(tmp / "absent.toml")], "absent.toml", id="rubric-missing"),
    pytest.param(lambda tmp: ["--rubric", str(_written(tmp / "r.toml", "[backward]\npoints = 'six'\n"))],
                 "backward.points must be a number", id="rubric-wrong"),
    pytest.param(lambda tmp: ["--wheel", str(_written(tmp / "gradgrade.zip", "x"))], "is not a gradgrade wheel",
                 id="not-a-wheel"),
    pytest.param(lambda tmp: ["--assignment", "four_layer"], "unknown assignment 'four_layer'", id="assignment"),
    pytest.param(lambda tmp: ["--out", str(tmp)], "is a folder", id="out-is-a-folder"),
    pytest.param(lambda tmp: ["--out", str(_written(tmp / "file", "") / "autograder.zip")], "cannot write",
                 id="out-unwritable"),
])
def test_what_cannot_be_built_is_one_line_and_exit_2(tmp_path, capsys, spoil, words):
    argv = ["autograder", "--out", str(tmp_path / "autograder.zip"), "--wheel", str(fake_wheel(tmp_path))]
    assert cli.main(argv + spoil(tmp_path)) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_an_installed_gradgrade_without_its_source_asks_for_a_wheel(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(autograder, "source_tree", lambda: None)
    assert cli.main(["autograder", "--out", str(tmp_path / "autograder.zip")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "run it from a checkout (pip install -e .) or give a wheel with --wheel FILE" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "autograder.zip").exists()


def readme_commands(first_word: str) -> str:
    """The README's shell block (in its Gradescope section) that starts with first_word, as one script."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Gradescope"):]
    blocks = [block.strip() for block in re.findall(r"^```\w*\n(.*?)^```$", section, re.S | re.M)]
    return next(block for block in blocks if block.startswith(first_word))


@pytest.mark.slow
def test_the_zip_installs_and_grades_as_on_gradescope(tmp_path):
    """Slow (a wheel build, a fresh virtual environment, pip installing numpy & co. from this machine's index):
    the README's commands, from `gradgrade autograder` to the student's results.json, in a folder laid out as
    Gradescope's /autograder; then the course notebook graded by run_autograder from where Gradescope puts it."""
    (tmp_path / "rubric.toml").write_text(RUBRIC)
    (tmp_path / "submissions").symlink_to(SUBMISSIONS)
    script = "set -euo pipefail\n" + readme_commands("gradgrade autograder") + "\n" + readme_commands("mkdir -p try")
    environment = {**os.environ, "GRADGRADE_PYTHON": sys.executable,
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    readme = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True,
                            timeout=900)
    assert readme.returncode == 0, readme.stderr[-3000:]
    root = tmp_path / "try"
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        assert archive.namelist() == ["setup.sh", "run_autograder", "rubric.toml", "gradgrade-0.1.0-py3-none-any.whl"]
    assert "gradgrade 0.1.0" in readme.stdout  # setup.sh's last line: the installed gradgrade answers
    installed = subprocess.run([str(root / "gradgrade-venv" / "bin" / "python"), "-c",
                                "import grader; print(grader.__file__)"], cwd=tmp_path, capture_output=True, text=True,
                               timeout=60)
    assert installed.stdout.startswith(str(root / "gradgrade-venv"))  # the bundled wheel, not this checkout
    document = json.loads((root / "results" / "results.json").read_text())
    assert json.loads(readme.stdout[readme.stdout.index("{"):]) == document  # json.tool printed it whole
    assert gradescope_problems(document) == []
    assert document["output"].startswith("planted_bugs.ipynb: FAIL, score 4/11")

    # Gradescope copies run_autograder to /autograder/run_autograder and runs it there, in a fresh container.
    (root / "results" / "results.json").unlink()
    (root / "submission" / "planted_bugs.ipynb").unlink()
    (root / "submission" / "Gradient_Checking.ipynb").write_bytes(course_notebook())
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    graded = subprocess.run([str(root / "run_autograder")], cwd=root, env={**environment, "AUTOGRADER_ROOT": str(root)},
                            capture_output=True, text=True, timeout=300)
    assert graded.returncode == 0, graded.stderr[-2000:]
    document = json.loads((root / "results" / "results.json").read_text())
    assert gradescope_problems(document) == []
    assert (document["visibility"], document["stdout_visibility"]) == ("after_due_date", "after_published")
    tests = {test["name"]: test for test in document["tests"]}
    assert tests["backward_propagation_n"]["visibility"] == "after_due_date"
    assert tests["gradient_check_n"]["visibility"] == "visible"
    assert {test["visibility"] for name, test in tests.items() if name != "gradient_check_n"} == {"after_due_date"}
    backward = tests["backward_propagation_n"]
    assert (backward["status"], backward["score"], backward["max_score"]) == ("failed", 4.0, 6.0)
    assert "hint [scale-double-gradient-6] (code cell 3, line 13): dW2 is twice" in backward["output"]
    assert tests["gradient_check_n"]["max_score"] == 5.0
    assert document["score"] == pytest.approx(sum(test["score"] for test in document["tests"]))
    assert document["output"].startswith("Gradient_Checking.ipynb: FAIL, score ")
    assert "There is a mistake in the backward propagation!" in document["output"]  # what the notebook printed
    assert "backward_propagation_n: FAIL" in graded.stdout  # the instructor's log of the run
