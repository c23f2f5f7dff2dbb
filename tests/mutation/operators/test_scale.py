"""The scale family: the course's planted bugs are in the catalogue."""
from __future__ import annotations

from grader.mutation.operators.apply import mutants_of
from grader.mutation.operators.registry import REGISTRY


def test_the_courses_planted_bugs_are_in_the_catalogue():
    doubled = mutants_of("dW2 = 1./m * np.dot(dZ2, A1.T)", REGISTRY["scale-double-gradient"])
    assert doubled == ["dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2"]
    quadrupled = mutants_of("db1 = 1./m * np.sum(dZ1, axis=1, keepdims=True)",
                            REGISTRY["scale-quadruple-m"])
    assert quadrupled == ["db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)"]

