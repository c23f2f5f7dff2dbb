"""Matching the catalogue: equal within MATCH_RTOL, flat gradients, and cover and routed as their definitions."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader import assignments
from grader.grading import diagnose, matching

RNG_SEED = 5


def true_gradient(shape=(3, 4)) -> np.ndarray:
    return np.random.default_rng(RNG_SEED).standard_normal(shape)


T = true_gradient()


@pytest.mark.parametrize("got, want, equal", [
    pytest.param(T, T * (1 + 1e-12), True, id="within-rtol"),
    pytest.param(T, T * (1 + 1e-6), False, id="beyond-rtol"),
    pytest.param(T, T * (1 + 1.8e-9), True, id="just-within-rtol"),
    pytest.param(T, T * (1 + 2.2e-9), False, id="just-beyond-rtol"),
    pytest.param(T, T + 1e-9 * np.roll(T, 1), True, id="other-direction-within-rtol"),
    pytest.param(T, T + 1e-8 * np.roll(T, 1), False, id="other-direction-beyond-rtol"),
    pytest.param(np.zeros((2, 2)), np.zeros((2, 2)), True, id="both-zero"),
    pytest.param(T, T.T.copy(), False, id="other-shape"),
    pytest.param(np.where(T > 0, np.nan, T), T, False, id="nan"),
    pytest.param(np.full((2, 2), 1e200), np.full((2, 2), 1e200), False, id="norm-overflows"),
    pytest.param(T.astype(np.float32), T.astype(np.float32).astype(np.float64), True, id="float32"),
    pytest.param(T.astype(object), T, False, id="object-dtype"),
    pytest.param(None, T, False, id="missing"),
])
def test_equal_is_a_finite_relative_difference_within_match_rtol(got, want, equal):
    assert matching._equal(got, want) is equal


def test_every_catalogued_gradient_is_a_float_array_so_flat_keeps_it():
    for candidate in matching.catalogue_candidates(assignments.get("three_layer")):
        for gradients, flat in zip(candidate.gradients, candidate.flat):
            assert (gradients is None) == (flat is None)
            for name, value in (gradients or {}).items():
                assert value.dtype.kind == "f"
                assert (flat[name] is not None) == bool(np.all(np.isfinite(value)))


def plain_cover(candidates, student, wrong):
    """cover by its definition: every candidate asked whether it explains the wrong parameters."""
    remaining, flat_student = set(wrong), matching.flat_gradients(student)
    with np.errstate(all="ignore"):
        explaining = [candidate for candidate in candidates if matching.explains(candidate, flat_student, set(wrong))]
    chosen = []
    while remaining:
        useful = [c for c in explaining if c.changed & remaining]
        if not useful:
            break
        best = min(useful, key=lambda c: (-len(c.changed & remaining), len(c.changed)))
        chosen.append(best)
        remaining -= best.changed
    return chosen


def plain_routed(name, gots, trues):
    """routed by its definition: _equal on every other key of every case."""
    present = [(got, true) for got, true in zip(gots, trues) if got is not None]
    for other in dict.fromkeys(key for _, true in present for key in true):
        if other != name and all(matching._equal(got, true.get(other)) and not matching._equal(got, true.get(name))
                                 for got, true in present):
            return other
    return None


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), mutants=st.integers(0, 3), extra_wrong=st.integers(0, 3),
       gaps=st.booleans())
def test_cover_and_routed_equal_their_definitions(seed, mutants, extra_wrong, gaps):
    rng = np.random.default_rng(seed)
    candidates = matching.catalogue_candidates(assignments.get("three_layer"))
    trues, _ = matching._true_gradients(assignments.get("three_layer"))
    student = [dict(true) for true in trues]
    wrong = set()
    # Some parameters as catalogued mutants compute them, some moved to another key, some scaled.
    for candidate in rng.choice(np.array(candidates, dtype=object), size=mutants):
        for found, gradients in zip(student, candidate.gradients):
            if gradients is not None:
                found.update({name: gradients[name] for name in candidate.changed})
        wrong |= candidate.changed
    names = list(trues[0])
    for name in rng.choice(names, size=extra_wrong):
        other = str(rng.choice(names))
        for found, true in zip(student, trues):
            found[name] = true[other] if rng.random() < 0.7 else 3.0 * true[name]
        wrong.add(str(name))
    if gaps:
        student[int(rng.integers(len(student)))] = None
    wrong = [name for name in names if name in wrong]
    assert [c.mutant for c in matching.cover(candidates, student, wrong)] == \
        [c.mutant for c in plain_cover(candidates, student, wrong)]
    for name in names:
        gots = [None if found is None else found.get(name) for found in student]
        found = diagnose.routed(name, gots, trues)
        assert (found and found.singular.removeprefix("holds the true ")) == plain_routed(name, gots, trues)
