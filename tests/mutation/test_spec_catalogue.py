"""A spec assignment's mutant catalogue, through mutation-test: the examples pass, a weak spec's hidden bug survives with a checked suggestion."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import assignments, cli
from grader.mutation import spec_catalogue, suggest
from grader.mutation.records import DETECTED, MutantStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assignments"
SPECS = sorted(EXAMPLES.glob("*.py"))

WEAK = '''\
"""A least-squares loss graded on one square case whose X is symmetric: X.dot and X.T.dot agree on it."""
import numpy as np

from grader.spec import Case, Loss, Spec


def least_squares(W, X, Y):
    N = X.shape[0]
    residual = X.dot(W) - Y
    loss = 0.5 * np.sum(residual ** 2) / N
    dW = X.T.dot(residual) / N
    return loss, dW


def one_case(rng):
    A = rng.standard_normal((3, 3))
    return [Case("square", {"W": rng.standard_normal((3, 3)), "X": A + A.T, "Y": rng.standard_normal((3, 3))})]


SPEC = Spec(name="weak", title="A weak spec", functions=[Loss("least_squares", wrt="W")], public_cases=one_case)
'''


def mutation_test(spec: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "mutation-test", "--assignment", str(spec), *extra],
                          capture_output=True, text=True, timeout=300, cwd=spec.parent)


@pytest.mark.parametrize("example", SPECS, ids=[path.stem for path in SPECS])
def test_an_example_spec_copied_alone_passes_with_25_distinct_mutants_from_10_operators(example, tmp_path):
    copied = tmp_path / example.name
    shutil.copy(example, copied)
    completed = mutation_test(copied, "--format", "json")
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr
    found = json.loads(completed.stdout)
    assert found["schema"] == "gradgrade/mutation/v1" and found["passed"] and found["sound"]
    caught = [m for m in found["mutants"] if m["status"] in {status.value for status in DETECTED}]
    assert len(caught) >= 25 and len({m["operator"] for m in caught}) >= 10
    assert not [m["id"] for m in found["mutants"] if m["status"] == "survived"]
    assert all(m["function"] and m["changed"]["before"] for m in found["mutants"])


@pytest.fixture
def weak(tmp_path) -> Path:
    path = tmp_path / "weak.py"
    path.write_text(WEAK)
    return path


def test_a_weak_spec_fails_naming_the_hidden_missing_transpose_and_a_checked_suggestion(weak):
    completed = mutation_test(weak)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "transpose-drop-1: line 5 of least_squares: dW = X.T.dot(residual) / N  ->  dW = X.dot(residual) / N" \
        in completed.stdout
    suggestion = completed.stdout.split("transpose-drop-1: line 5")[1].splitlines()[1]
    assert "add a case where" in suggestion and "X.shape[1]" in suggestion and "checked" in suggestion


def test_a_survivors_json_carries_its_line_and_its_suggestion(weak):
    found = json.loads(mutation_test(weak, "--format", "json").stdout)
    survivor = next(m for m in found["mutants"] if m["id"] == "transpose-drop-1")
    assert survivor["status"] == "survived" and survivor["function"] == "least_squares"
    assert survivor["changed"] == {"line": 5, "before": "dW = X.T.dot(residual) / N", "after": "dW = X.dot(residual) / N"}
    assert survivor["suggestion"]["checked"] and "X.shape[1]" in survivor["suggestion"]["variant"]
    assert not found["passed"]


SHIFTED = '''\
"""Softmax cross-entropy of scores: shifting each row by its maximum (or by anything) changes nothing."""
import numpy as np

from grader.spec import Case, Loss, Spec


def softmax_loss(x, y):
    shifted = x.copy()
    shifted -= np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def cases(rng, sizes):
    return [Case(f"N{N}-C{C}", {"x": rng.standard_normal((N, C)), "y": np.arange(N) % C}) for N, C in sizes]


SPEC = Spec(name="shifted", title="Softmax loss", functions=[Loss("softmax_loss", wrt="x")],
            public_cases=lambda rng: cases(rng, [(5, 3)]), hidden_cases=lambda rng: cases(rng, [(1, 2), (6, 4)]),
            square_cases=lambda rng: cases(rng, [(4, 4)]))
'''


def test_a_mutant_equal_on_every_variant_stays_equivalent(tmp_path):
    path = tmp_path / "shifted.py"
    path.write_text(SHIFTED)
    run = suggest.run(assignments.get(str(path)))
    shifted = next(m for m in run.mutants if m.after == "shifted += np.max(x, axis=1, keepdims=True)")
    assert shifted.status is MutantStatus.EQUIVALENT
    assert not [m.id for m in run.mutants if m.status is MutantStatus.SURVIVED] and run.passed


def test_a_bad_spec_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(WEAK.replace("dW = X.T.dot(residual) / N", "dW = 2 * X.T.dot(residual) / N"))
    completed = mutation_test(bad)
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1 and "numerical check" in completed.stderr


def test_mutate_refuses_a_spec_assignment_since_nothing_is_committed_for_it(weak, capsys):
    assert cli.main(["mutate", "--assignment", str(weak)]) == cli.EXIT_USAGE
    assert "mutation-test" in capsys.readouterr().err


def test_the_catalogue_is_made_once_per_assignment_object(weak):
    assignment = assignments.get(str(weak))
    assert spec_catalogue.catalogue(assignment) is spec_catalogue.catalogue(assignment)


def test_the_html_report_shows_a_survivors_suggestion(weak, tmp_path):
    page = tmp_path / "mutation.html"
    assert mutation_test(weak, "--html", str(page)).returncode == 1
    assert "Suggestion:</strong> add a case where" in page.read_text()
