"""Suggestions for surviving spec mutants: the variant of the cases that exposes each, found and checked."""
from __future__ import annotations

import numpy as np
import pytest

from grader import assignments
from grader import spec as api
from grader.mutation import suggest
from grader.mutation.records import MutantStatus

RIDGE = '''\
"""Ridge regression graded only where reg = 0 and N = 1: the regularisation and the mean go untested."""
import numpy as np
from grader.spec import Case, Loss, Spec


def ridge(W, X, Y, reg):
    N = X.shape[0]
    residual = X.dot(W) - Y
    loss = 0.5 * np.sum(residual ** 2) / N + 0.5 * reg * np.sum(W * W)
    dW = X.T.dot(residual) / N
    dW += reg * W
    return loss, dW


def cases(rng, sizes, reg):
    return [Case(f"N{N}-D{D}-C{C}", {"W": rng.standard_normal((D, C)), "X": rng.standard_normal((N, D)),
                                    "Y": rng.standard_normal((N, C)), "reg": reg}) for N, D, C in sizes]


SPEC = Spec(name="ridge", title="Ridge regression", functions=[Loss("ridge", wrt="W")],
            public_cases=lambda rng: cases(rng, [(1, 3, 2)], 0.0),
            hidden_cases=lambda rng: cases(rng, [(1, 4, 3)], 0.0))
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("ridge") / "ridge.py"
    path.write_text(RIDGE)
    return suggest.run(assignments.get(str(path)))


def survivor(run, after):
    return next(m for m in run.mutants if m.after == after)


def test_a_dropped_regularisation_gradient_asks_for_reg_above_zero(run):
    found = survivor(run, "pass")
    assert found.status is MutantStatus.SURVIVED and found.line == 6
    assert found.suggestion.text.startswith("add a case with reg > 0 (every case has reg = 0)")
    assert found.suggestion.checked and found.suggestion.variant == "reg = 0.5"


def test_a_dropped_mean_asks_for_a_batch_of_more_than_one(run):
    found = survivor(run, "dW = X.T.dot(residual)")
    assert found.status is MutantStatus.SURVIVED
    assert "X.shape[0] = Y.shape[0] other than 1 (every case has X.shape[0] = Y.shape[0] = 1)" in found.suggestion.text
    assert found.suggestion.checked


def test_mutants_the_cases_catch_get_no_suggestion(run):
    assert all(m.suggestion is None for m in run.mutants if m.status is MutantStatus.KILLED)


def test_sizes_equal_in_every_case_are_grouped_as_one_dimension():
    rng = np.random.default_rng(0)
    cases = [api.Case(f"c{n}", {"X": rng.standard_normal((n, 3)), "y": np.zeros(n, int), "W": np.ones((3, 2))})
             for n in (2, 5)]
    groups = [sorted(slot.label for slot in group) for group in suggest._classes(cases, suggest._slots(cases[0].inputs))]
    assert sorted(groups) == [["W.shape[0]", "X.shape[1]"], ["W.shape[1]"], ["X.shape[0]", "y.shape[0]"]]


def test_a_grown_axis_keeps_labels_whole_and_jitters_real_entries():
    rng = np.random.default_rng(0)
    labels = suggest._resized(np.array([2, 0, 1]), 0, 5, rng)
    assert labels.tolist() == [2, 0, 1, 2, 0]
    real = suggest._resized(np.ones((2, 2)), 1, 3, rng)
    assert real.shape == (2, 3) and not np.allclose(real[:, 2], 1.0)
