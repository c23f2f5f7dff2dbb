"""A course package registering its specs under the entry-point group gradgrade.assignments: --assignment NAME
finds them on every command, its workers too; a registered module that cannot load is one line and exit 2.

The package is installed the way pip leaves one in site-packages (the package, and a dist-info folder whose
entry_points.txt registers it), in a folder on the graded processes' PYTHONPATH.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assignments"
ENTRY_POINTS = """[gradgrade.assignments]
softmax_l2 = mycourse.softmax_l2
tanh_two_layer = mycourse.tanh_two_layer
broken = mycourse.broken
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site-packages folder holding the course's package, as pip installs it."""
    site = tmp_path / "site-packages"
    package = site / "mycourse"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Assignments of my course, for gradgrade."""\n')
    for name in ("softmax_l2", "tanh_two_layer"):
        shutil.copy(EXAMPLES / f"{name}.py", package / f"{name}.py")
    (package / "broken.py").write_text("import numpy as np\nfrom grader.spec import Spec\nSPEC = Spec(\n")
    info = site / "mycourse_assignments-2026.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mycourse-assignments\nVersion: 2026.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (info / "top_level.txt").write_text("mycourse\n")
    return site


def gradgrade(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=300)


def test_check_finds_a_registered_spec_by_name(site, tmp_path):
    """(The package also registers a broken spec: it stops only the commands that ask for it.)"""
    student = EXAMPLES / "tanh_two_layer_class" / "correct_matmul.py"
    completed = gradgrade(site, "check", str(student), "--assignment", "tanh_two_layer", "--format", "json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert (result["assignment"], result["status"], result["score"]) == ("tanh_two_layer", "pass", 10)


def test_grade_with_workers_finds_it_too(site, tmp_path):
    shutil.copytree(EXAMPLES / "softmax_l2_class", tmp_path / "class")
    completed = gradgrade(site, "grade", "class", "--assignment", "softmax_l2", "--out", "out", "--jobs", "2", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    statuses = {Path(result["file"]).name: result["status"] for result in results}
    assert {result["assignment"] for result in results} == {"softmax_l2"}
    assert statuses["correct_loops.py"] == statuses["correct_vectorized.ipynb"] == "pass"
    assert statuses["bug_no_mean.py"] == "fail"


def test_an_unknown_name_lists_the_registered_ones(site, tmp_path):
    completed = gradgrade(site, "check", str(EXAMPLES / "softmax_l2_class" / "correct_loops.py"),
                          "--assignment", "softmax", cwd=tmp_path)
    assert completed.returncode == 2
    assert "unknown assignment 'softmax'" in completed.stderr and "softmax_l2" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_a_registered_module_that_cannot_load_is_one_line(site, tmp_path):
    completed = gradgrade(site, "check", str(EXAMPLES / "softmax_l2_class" / "correct_loops.py"),
                          "--assignment", "broken", cwd=tmp_path)
    assert completed.returncode == 2
    assert "assignment 'broken' (mycourse.broken) cannot be loaded: SyntaxError" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
