"""Describe how a wrong gradient differs from the true one, without the mutant catalogue."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from grader.numerics import check

# A wrong gradient is "c times the true one" when it equals c * true to this relative difference.
FACTOR_RTOL = 1e-6


@dataclass(frozen=True)
class Description:
    """How one gradient is wrong: a kind, the phrase that says it (singular, plural) and advice after it."""

    kind: str
    singular: str
    plural: str
    advice: str = ""


def _same(got: np.ndarray, want: np.ndarray, rtol: float) -> bool:
    return check.relative_difference(got, want) < rtol


def _times(factor: float) -> str:
    """'twice', 'half', '4 times', '0.3 times' the true gradient."""
    if abs(factor - 2) < 1e-9:
        return "twice"
    if abs(factor - 0.5) < 1e-9:
        return "half"
    if abs(factor - round(factor)) < 1e-9:
        return f"{int(round(factor))} times"
    return f"{factor:.4g} times"


def _phrase(kind: str, singular: str, advice: str = "") -> Description:
    plural = singular.replace("is ", "are ", 1) if singular.startswith("is ") else singular.replace("has ", "have ", 1)
    return Description(kind, singular, plural, advice)


def best_factor(got: np.ndarray, true: np.ndarray) -> float | None:
    """The c for which got = c * true, when there is one (least squares, then checked)."""
    norm = float(np.vdot(true, true))
    if norm == 0.0:
        return None
    factor = float(np.vdot(true, got) / norm)
    return factor if _same(got, factor * true, FACTOR_RTOL) else None


def _entries(wrong: np.ndarray) -> str:
    """Which entries are wrong, in words: whole rows or columns when it is that, else the first few indices."""
    if wrong.ndim == 2 and wrong.shape[1] > 1:
        rows = [int(i) for i in np.flatnonzero(wrong.all(axis=1))]
        if rows and wrong[rows].sum() == wrong.sum():
            return f"row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}"
        columns = [int(j) for j in np.flatnonzero(wrong.all(axis=0))]
        if columns and wrong[:, columns].sum() == wrong.sum():
            return f"column{'s' if len(columns) > 1 else ''} {', '.join(map(str, columns))}"
    indices = [tuple(int(i) for i in index) for index in np.argwhere(wrong)]
    shown = ", ".join("[" + ", ".join(map(str, index)) + "]" for index in indices[:4])
    return shown + (", ..." if len(indices) > 4 else "")


def describe_case(got: Any, true: np.ndarray, *, threshold: float = check.THRESHOLD) -> Description | None:
    """How got differs from the true gradient on one case; None when it is right."""
    return _described(got, true, threshold)[0]


def _described(got: Any, true: np.ndarray, threshold: float, difference: float | None = None
               ) -> tuple[Description | None, float | None]:
    """describe_case, and the factor it found got to be of true (None when it looked for none or found none).

    difference, when given, is check.relative_difference(got, true), which the caller computed.
    """
    true = np.asarray(true, dtype=np.float64)
    if got is None:
        return _phrase("missing", "is missing from the returned gradients"), None
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf":
        kind = f"an {check.kind_of(got)}" if isinstance(got, np.ndarray) else check.kind_of(got)
        return _phrase("type", f"is {kind}, not a float array of shape {true.shape}"), None
    got = got.astype(np.float64, copy=False)  # read only from here on
    if got.shape != true.shape:
        if got.shape == true.T.shape and got.ndim == 2 and np.all(np.isfinite(got)) and _same(got, true.T, FACTOR_RTOL):
            return _phrase("transposed", f"is transposed: shape {got.shape}, expected {true.shape}",
                           "swap the operands of np.dot (or transpose the other one)"), None
        if got.size == true.size and np.all(np.isfinite(got)) and _same(got.ravel(), true.ravel(), FACTOR_RTOL):
            advice = "keep the column with keepdims=True" if got.ndim < true.ndim else "reshape it"
            return _phrase("shape", f"has the right values in the wrong shape {got.shape}, expected {true.shape}",
                           advice), None
        return _phrase("shape", f"has shape {got.shape}, expected {true.shape}"), None
    # A NaN or infinite entry makes the difference NaN, so only a NaN difference needs the entries looked at.
    if difference is None:
        difference = check.relative_difference(got, true)
    if math.isnan(difference) and not np.isfinite(got).all():
        bad = int(np.count_nonzero(~np.isfinite(got)))
        return _phrase("nan", f"has {bad} of {got.size} entries that are NaN or infinite",
                       "look for a division by zero or the log of 0"), None
    if check.passes(difference, threshold):
        return None, None
    if not got.any() and true.any():
        return _phrase("zeros", "is all zeros",
                       "is it computed from the right dZ, and returned under the right key?"), None
    factor = best_factor(got, true)
    if factor is not None and abs(factor + 1) < 1e-6:
        return _phrase("sign", "has the wrong sign"), factor
    if factor is not None:
        return _phrase("factor", f"is {_times(factor)} the true gradient"), factor
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _same(got, true.T, FACTOR_RTOL):
        return _phrase("transposed", "is the transpose of the true gradient",
                       "swap the operands of np.dot (or transpose the other one)"), None
    scale = max(float(np.abs(true).max()), 1e-300)
    wrong = ~np.isclose(got, true, rtol=FACTOR_RTOL, atol=FACTOR_RTOL * scale)
    if 0 < wrong.sum() < wrong.size:
        return _phrase("entries",
                       f"is wrong only in {int(wrong.sum())} of {wrong.size} entries ({_entries(wrong)})"), None
    return _phrase("other",
                   "is wrong in every entry, and not by a constant factor, sign, transpose or shape"), None


# The m a student may divide by instead of the batch size: m + k for a small k (m = X.shape[1] - 1), or a
# constant they wrote in (m = 3). Each makes the gradient a different multiple of the true one on every case.
M_SHIFTS = (-1, 1, -2, 2, -3, 3)
M_KINDS = ("factor-m-shift", "hard-coded-m")


def _m_minus(k: int) -> str:
    return f"m{k:+d}"


def _per_case(pairs: Sequence[tuple[float, int]]) -> str:
    """'1.5 at m = 3, 2 at m = 2 and 1.25 at m = 5': the factor found on each failing case."""
    shown = [f"{factor:.3g} at m = {m}" for factor, m in pairs]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def m_dependence(pairs: Sequence[tuple[float, int]], broken: Sequence[int] = ()) -> Description | None:
    """The m the student divides by, when the factor of every case (pairs of factor and batch size m, the
    passing cases at factor 1) fits one: m/(m + k) for a small k, or m/c for a constant c they wrote in.

    broken: the batch sizes of the cases that gave inf or NaN or raised; m + k = 0 there is what explains
    them (m - 1 is 0 when m = 1), so the fit is made on the other cases. Needs two failing cases of different m.
    """
    failing = [(factor, m) for factor, m in pairs if abs(factor - 1) > FACTOR_RTOL]
    if len({m for _, m in failing}) < 2:
        return None

    def fits(model) -> bool:
        return all(abs(factor - model(m)) <= FACTOR_RTOL * abs(factor) for factor, m in pairs)

    shown = _per_case(failing)
    for k in M_SHIFTS:
        if all(m + k != 0 for _, m in pairs) and all(m + k == 0 for m in broken) and fits(lambda m: m / (m + k)):
            ratio = f"m/({_m_minus(k)})"
            zero = (f"; where m = {', '.join(map(str, sorted(set(broken))))}, {_m_minus(k)} = 0: a division by zero"
                    if broken else "")
            return Description("factor-m-shift", f"is {ratio} times the true one, m the case's batch size ({shown}{zero})",
                               f"are each {ratio} times the true one, m the case's batch size ({shown}{zero})",
                               "check how m is computed")
    constant = failing[0][1] / failing[0][0]
    if not broken and abs(constant - round(constant)) <= FACTOR_RTOL * constant and round(constant) >= 2:
        c = int(round(constant))
        if fits(lambda m: m / c):
            return Description("hard-coded-m", f"is m_true/{c} times the true one, m_true the case's batch size ({shown})",
                               f"are each m_true/{c} times the true one, m_true the case's batch size ({shown})",
                               f"m is hard-coded to {c}")
    return None


def describe(gots: Sequence[Any], trues: Sequence[np.ndarray], batch_sizes: Sequence[int], *,
             threshold: float = check.THRESHOLD, crashed: Sequence[int] = ()) -> Description | None:
    """How one gradient is wrong over every case: a factor that is m (or 1/m) on each case is named so, and one
    that follows a wrong m (m/(m-1) times, or m/3 times where m is hard-coded to 3).

    crashed: the batch sizes of the cases where the backward pass raised (not among gots): they count only to
    tell a division by zero that explains them.
    """
    trues = [np.asarray(true, dtype=np.float64) for true in trues]
    # A difference that passes is right whatever else _described would look at (most cases of most gradients).
    described = [(None, None) if difference is not None and check.passes(difference, threshold)
                 else _described(got, true, threshold, difference)
                 for got, true, difference in zip(gots, trues, _differences(gots, trues))]
    per_case = [found for found, _ in described]
    failing = [(index, found) for index, found in enumerate(per_case) if found is not None]
    if not failing:
        return None
    first = failing[0][1]
    if any(found.kind not in ("factor", "sign", "nan") for _, found in failing):
        return first
    # Each of these cases is a factor or sign, whose factor _described found (got = factor * true), or NaN.
    factors = [factor if found is not None else 1.0 for found, factor in described]
    if any(found.kind == "nan" for _, found in failing):
        # Only a wrong m whose m + k is 0 on exactly those cases explains values that are partly inf or NaN.
        pairs = [(factor, m) for factor, m, found in zip(factors, batch_sizes, per_case)
                 if found is None or found.kind != "nan"]
        broken = [m for m, found in zip(batch_sizes, per_case) if found is not None and found.kind == "nan"]
        return m_dependence(pairs, [*broken, *crashed]) or first
    if crashed:
        found = m_dependence(list(zip(factors, batch_sizes)), crashed)
        if found is not None:
            return found
    if all(factor is not None and abs(factor - m) <= 1e-6 * m for factor, m in zip(factors, batch_sizes)):
        return _phrase("factor-m", "is m times the true gradient (m = number of examples)", "the 1/m factor is missing")
    if all(factor is not None and abs(factor * m - 1) <= 1e-6 for factor, m in zip(factors, batch_sizes)):
        return _phrase("factor-m", "is the true gradient divided by m once more", "divide by m only once")
    found = m_dependence(list(zip(factors, batch_sizes)))
    if found is not None:
        return found
    wrong_factors = [factor for factor, found in zip(factors, per_case) if found is not None]
    if any(abs(factor - wrong_factors[0]) > 1e-6 * abs(wrong_factors[0]) for factor in wrong_factors):
        shown = ", ".join(f"{factor:.3g}" for factor in wrong_factors[:3])
        return _phrase("varies", f"is a different multiple of the true gradient on each case ({shown} times it)",
                       "it does not follow the formula of the true gradient")
    return first


def _differences(gots: Sequence[Any], trues: Sequence[np.ndarray]) -> list[float | None]:
    """check.relative_difference of each got that is a number array of its true's shape, else None (one errstate)."""
    with np.errstate(all="ignore"):
        return [check.flat_difference(np.asarray(got, dtype=np.float64).ravel(), true.ravel())
                if isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and got.shape == true.shape else None
                for got, true in zip(gots, trues)]


def subject(names: Sequence[str]) -> str:
    """'dW1', 'dW1 and db1', 'dW1, db1 and dW2'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sentence(names: Sequence[str], description: Description, advice: str = "") -> str:
    """'db1 is 4 times the true gradient: look at the 1/m factor'."""
    verb = description.singular if len(names) == 1 else description.plural
    advice = advice or description.advice
    return f"{subject(names)} {verb}" + (f": {advice}" if advice else "")
