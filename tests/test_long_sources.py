"""Real-sized submissions: an nbconvert export of the course notebook with all its markdown (28 KB, the graded
functions past character 15,000) and a 2 MB source grade as their content deserves, by `check` and by `grade`."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
EXPORTS = {
    # file: (status, score, {function: (status, points)}, parameters that must fail)
    "gc_export_correct.py": ("pass", 10, {"backward_propagation_n": ("pass", 6), "gradient_check_n": ("pass", 4)}, set()),
    "gc_export_planted_bugs.py": ("fail", 8, {"backward_propagation_n": ("fail", 4), "gradient_check_n": ("pass", 4)},
                                  {"dW2", "db1"}),
    "gc_export_checker_only.py": ("fail", 4, {"backward_propagation_n": ("missing", 0),
                                              "gradient_check_n": ("pass", 4)}, set()),
}
MEGABYTES = 2


def two_megabyte_export(path: Path) -> Path:
    """The correct export with 2 MB between its imports and its functions: a pasted table of training data
    as a markdown cell, then a data literal in a code cell, as a student who printed their data set has."""
    source = (REAL / "gc_export_correct.py").read_text()
    rng = np.random.default_rng(23)
    rows = rng.standard_normal((MEGABYTES * 1024 * 1024 // 2 // 40, 4))
    table = "".join(f"# | {a:+.6f} | {b:+.6f} | {c:+.6f} | {d:+.6f} |\n" for a, b, c, d in rows)
    literal = "TRAINING_NOTES = '''\n" + "".join(f"{a:.9f},{b:.9f},{c:.9f},{d:.9f}\n" for a, b, c, d in rows) + "'''\n"
    cell = f"\n# The training data, printed:\n# \n{table}\n# In[2]:\n\n\n{literal}\n\n"
    at = source.index("# <a name='2'></a>")
    path.write_text(source[:at] + cell + source[at:])
    assert path.stat().st_size > MEGABYTES * 1024 * 1024 and path.read_text().index("def backward_propagation_n") > 2_000_000
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=600)


def assert_graded_as_deserved(result: dict, expected: tuple) -> None:
    status, score, functions, failing = expected
    assert (result["status"], result["score"], result["max_score"]) == (status, score, 10), result["message"]
    checks = {check["name"]: check for check in result["checks"]}
    for name, (check_status, points) in functions.items():
        assert (checks[name]["status"], checks[name]["points"]) == (check_status, points), checks[name]["message"]
    if failing:
        parameters = checks["backward_propagation_n"]["parameters"]
        assert {name for name, p in parameters.items() if p["status"] == "fail"} == failing
    assert not any("not defined" in check["message"] for check in result["checks"] if check["status"] != "missing")
    assert result["capped"] == []


def test_the_exports_are_real_sized_with_the_graded_functions_past_the_first_10000_characters():
    for name in EXPORTS:
        text = (REAL / name).read_text()
        assert len(text) > 20_000 and text.startswith("#!/usr/bin/env python\n# coding: utf-8\n")
        assert "# In[1]:" in text and "from gc_utils import" in text and "from testCases import" in text
        assert text.index("def gradient_check_n") > 10_000


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_check_grades_each_export_as_its_content_deserves(name):
    completed = run_cli("check", str(REAL / name), "--format", "json")
    assert completed.returncode == (0 if EXPORTS[name][0] == "pass" else 1), completed.stderr
    assert_graded_as_deserved(json.loads(completed.stdout), EXPORTS[name])


def test_check_grades_a_two_megabyte_source_as_its_content_deserves(tmp_path):
    completed = run_cli("check", str(two_megabyte_export(tmp_path / "big_export.py")), "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert_graded_as_deserved(json.loads(completed.stdout), EXPORTS["gc_export_correct.py"])


def test_grade_grades_the_exports_and_the_two_megabyte_source_as_check_does(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in EXPORTS:
        shutil.copy(REAL / name, folder / name)
    two_megabyte_export(folder / "big_export.py")
    completed = run_cli("grade", str(folder), "--out", str(tmp_path / "out"), "--jobs", "2")
    assert completed.returncode == 0, completed.stderr
    results = {result["submission"]: result for result in json.loads((tmp_path / "out" / "results.json").read_text())}
    assert set(results) == {"gc_export_correct", "gc_export_planted_bugs", "gc_export_checker_only", "big_export"}
    for name, expected in EXPORTS.items():
        assert_graded_as_deserved(results[name[:-3]], expected)
    assert_graded_as_deserved(results["big_export"], EXPORTS["gc_export_correct.py"])
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert "gc_export_correct,10,10,pass,6,4" in "\n".join(rows) and "big_export,10,10,pass,6,4" in "\n".join(rows)
