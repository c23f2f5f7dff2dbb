"""Describing a wrong gradient without the catalogue: one case, every case, a wrong m, the sentence."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader.grading import description
from grader.sandbox.wire import Opaque

RNG_SEED = 5


def true_gradient(shape=(3, 4)) -> np.ndarray:
    return np.random.default_rng(RNG_SEED).standard_normal(shape)


T = true_gradient()


@pytest.mark.parametrize("got, kind, phrase", [
    pytest.param(2 * T, "factor", "is twice the true gradient", id="twice"),
    pytest.param(4 * T, "factor", "is 4 times the true gradient", id="four-times"),
    pytest.param(0.5 * T, "factor", "is half the true gradient", id="half"),
    pytest.param(-T, "sign", "has the wrong sign", id="sign"),
    pytest.param(T.T.copy(), "transposed", "is transposed: shape (4, 3), expected (3, 4)", id="transposed"),
    pytest.param(np.zeros_like(T), "zeros", "is all zeros", id="zeros"),
    pytest.param(np.where(np.eye(3, 4) > 0, np.nan, T), "nan", "has 3 of 12 entries that are NaN", id="nan"),
    pytest.param(T[:, :2].copy(), "shape", "has shape (3, 2), expected (3, 4)", id="wrong-shape"),
    pytest.param(T.ravel().copy(), "shape", "has the right values in the wrong shape (12,)", id="flattened"),
    pytest.param(np.vstack([T[:1] * 3, T[1:]]), "entries", "is wrong only in 4 of 12 entries (row 0)", id="one-row"),
    pytest.param(np.where(np.arange(12).reshape(3, 4) == 5, 7.0, T), "entries", "is wrong only in 1 of 12 entries ([1, 1])",
                 id="one-entry"),
    pytest.param(None, "missing", "is missing", id="missing"),
    pytest.param(Opaque("Liar", "<Liar>"), "type", "is Liar, not a float array of shape (3, 4)", id="opaque"),
    pytest.param(T.astype(object), "type", "is an array of object, not a float array", id="object-array"),
])
def test_describe_case_names_how_a_gradient_is_wrong(got, kind, phrase):
    found = description.describe_case(got, T)
    assert found is not None and found.kind == kind
    assert phrase in found.singular


def test_describe_case_says_nothing_for_a_right_gradient():
    assert description.describe_case(T * (1 + 1e-12), T) is None


def test_a_square_transpose_is_named():
    square = true_gradient((4, 4))
    assert description.describe_case(square.T.copy(), square).kind == "transposed"


def test_a_factor_equal_to_m_on_every_case_is_the_missing_1_over_m():
    trues = [true_gradient((2, 2)) for _ in range(3)]
    found = description.describe([m * t for m, t in zip((1, 3, 5), trues)], trues, (1, 3, 5))
    assert found.kind == "factor-m" and "the 1/m factor is missing" in description.sentence(["dW3"], found)


def plain_describe(gots, trues, batch_sizes):
    """describe by its definition: describe_case on every case, then best_factor again on each factor or sign."""
    per_case = [description.describe_case(got, true) for got, true in zip(gots, trues)]
    failing = [found for found in per_case if found is not None]
    if not failing or any(found.kind not in ("factor", "sign", "nan") for found in failing):
        return failing[0] if failing else None
    factors = [description.best_factor(np.asarray(got, dtype=np.float64), np.asarray(true, dtype=np.float64))
               if found is not None and found.kind != "nan" else 1.0 for got, true, found in zip(gots, trues, per_case)]
    if any(found.kind == "nan" for found in failing):
        broken = [m for m, found in zip(batch_sizes, per_case) if found is not None and found.kind == "nan"]
        pairs = [(factor, m) for factor, m, found in zip(factors, batch_sizes, per_case)
                 if found is None or found.kind != "nan"]
        return in_short(description.m_dependence(pairs, broken)) or failing[0]
    if all(factor is not None and abs(factor - m) <= 1e-6 * m for factor, m in zip(factors, batch_sizes)):
        return "factor-m", "missing"
    if all(factor is not None and abs(factor * m - 1) <= 1e-6 for factor, m in zip(factors, batch_sizes)):
        return "factor-m", "once more"
    if description.m_dependence(list(zip(factors, batch_sizes))) is not None:
        return in_short(description.m_dependence(list(zip(factors, batch_sizes))))
    wrong_factors = [factor for factor, found in zip(factors, per_case) if found is not None]
    if any(abs(factor - wrong_factors[0]) > 1e-6 * abs(wrong_factors[0]) for factor in wrong_factors):
        return "varies", ", ".join(f"{factor:.3g}" for factor in wrong_factors[:3])
    return failing[0]


def in_short(found):
    """A Description as plain_describe gives it: the whole one, or its kind and the words that tell it apart."""
    if found is not None and found.kind in description.M_KINDS:
        return found.kind, found.advice
    if found is None or found.kind not in ("factor-m", "varies"):
        return found
    return found.kind, ("missing" if "missing" in found.advice else "once more") if found.kind == "factor-m" \
        else found.singular.split("(")[1].split(" times")[0]


# What a student's gradient may be on one case, made from the true one and the case's m.
CASE_KINDS = ["right", "m-times", "over-m", "twice", "sign", "nan", "missing", "transposed", "zeros", "one-entry",
              "integers", "huge", "scalar"]


def student_gradient(kind, true, m, rng):
    off = true.copy()
    off.flat[rng.integers(true.size)] += 1.0
    if kind in ("missing", "scalar"):
        return None if kind == "missing" else float(true.flat[0])
    return np.asarray({"right": true * (1 + 1e-12), "m-times": m * true, "over-m": true / m, "twice": 2 * true,
                       "sign": -true, "nan": np.where(rng.random(true.shape) < 0.5, np.nan, true),
                       "transposed": true.T.copy(), "zeros": np.zeros_like(true), "one-entry": off,
                       "integers": np.rint(true * 10).astype(int), "huge": true * 1e300}[kind])


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1),
       kinds=st.lists(st.sampled_from(CASE_KINDS), min_size=1, max_size=5),
       common=st.sampled_from(["m-times", "over-m", "twice", "sign", None]))
def test_describe_equals_describe_case_on_every_case(seed, kinds, common):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 4, size=rng.integers(0, 3)))
    trues = [np.asarray(rng.standard_normal(shape)) for _ in kinds]
    batch_sizes = [int(m) for m in rng.integers(1, 5, size=len(kinds))]
    # Often the same kind on every case, as a real bug is: the factor-m and varies paths need that.
    kinds = [common or kind for kind in kinds]
    gots = [student_gradient(kind, true, m, rng) for kind, true, m in zip(kinds, trues, batch_sizes)]
    with np.errstate(all="ignore"):
        assert in_short(description.describe(gots, trues, batch_sizes)) == plain_describe(gots, trues, batch_sizes)


@pytest.mark.parametrize("names, expected", [
    pytest.param(["dW1"], "dW1 has the wrong sign", id="one"),
    pytest.param(["dW1", "db1"], "dW1 and db1 have the wrong sign", id="two"),
    pytest.param(["dW1", "db1", "dW2"], "dW1, db1 and dW2 have the wrong sign", id="three"),
])
def test_sentences_agree_with_their_subject(names, expected):
    assert description.sentence(names, description.describe_case(-T, T)) == expected


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), k=st.sampled_from((-1, 1, -2, 2, -3, 3)),
       sizes=st.lists(st.integers(1, 64), min_size=3, max_size=6, unique=True))
def test_a_gradient_divided_by_m_plus_k_is_found_whatever_the_batch_sizes(seed, k, sizes):
    rng = np.random.default_rng(seed)
    trues = [rng.standard_normal((3, 2)) for _ in sizes]
    usable = [m for m in sizes if m + k != 0]
    if len([m for m in usable if m / (m + k) != 1]) < 2:
        return
    with np.errstate(all="ignore"):
        gots = [true * m / (m + k) if m + k != 0 else true / 0.0 for true, m in zip(trues, sizes)]
        found = description.describe(gots, trues, sizes)
    assert found.kind == "factor-m-shift" and f"m/(m{k:+d})" in found.singular


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), c=st.integers(2, 128),
       sizes=st.lists(st.integers(1, 256), min_size=3, max_size=6, unique=True))
def test_a_hard_coded_m_is_found_whatever_the_batch_sizes(seed, c, sizes):
    rng = np.random.default_rng(seed)
    trues = [rng.standard_normal((2, 2)) for _ in sizes]
    if len([m for m in sizes if m != c]) < 2:
        return
    found = description.describe([true * m / c for true, m in zip(trues, sizes)], trues, sizes)
    assert found.kind == "hard-coded-m" and found.advice == f"m is hard-coded to {c}"
