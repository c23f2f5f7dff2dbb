"""Name the bug in a failing backward pass: match it to a catalogued mutant, or describe how it is wrong."""
from __future__ import annotations

import ast
import dataclasses
import functools
import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from grader import assignments
from grader.mutation import mutate
from grader.numerics import check
from grader.load import program as load
from grader.assignments import Assignment
from grader.results import CheckResult, Diagnosis, Status
from grader.sandbox.run import CallStatus

# Two gradients are the same bug when they agree to this relative difference on every case.
MATCH_RTOL = 1e-9
# A wrong gradient is "c times the true one" when it equals c * true to this relative difference.
FACTOR_RTOL = 1e-6


# --- Describing one wrong gradient without the catalogue ------------------------------------------


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


def routed(name: str, gots: Sequence[Any], trues: Sequence[Mapping[str, np.ndarray]]) -> Description | None:
    """When a gradient holds another parameter's true gradient wherever it is there: stored under the wrong key."""
    present = [(got, true) for got, true in zip(gots, trues) if got is not None]
    if not present:
        return None
    with np.errstate(all="ignore"):
        # _equal(got, want) is _matches(flat(got), flat(want)): each got made flat once, not once per other key.
        present = [(flat(got), true) for got, true in present]
        for other in dict.fromkeys(key for _, true in present for key in true):
            if other != name and all(_matches(got, flat(true.get(other)))
                                     and not _matches(got, flat(true.get(name))) for got, true in present):
                return _phrase("routing", f"holds the true {other}",
                               "look at the key or layer index it is stored under")
    return None


def subject(names: Sequence[str]) -> str:
    """'dW1', 'dW1 and db1', 'dW1, db1 and dW2'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sentence(names: Sequence[str], description: Description, advice: str = "") -> str:
    """'db1 is 4 times the true gradient: look at the 1/m factor'."""
    verb = description.singular if len(names) == 1 else description.plural
    advice = advice or description.advice
    return f"{subject(names)} {verb}" + (f": {advice}" if advice else "")


# --- Where the student computes a gradient ---------------------------------------------------------


@dataclass(frozen=True)
class GradientLine:
    """Where the student's code assigns one name: the line and the expression."""

    line: int
    value: ast.expr


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [name for element in node.elts for name in _targets(element)]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return [node.slice.value]
    return []


# The nodes that hold statements; expressions never do, so a walk for statements need not enter them.
_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


@functools.cache
def _statement_fields(kind: type) -> tuple[str, ...]:
    """The fields of a kind of node that can list statements, except handlers or match cases, in _fields order."""
    return tuple(field for field in kind._fields if field in ("body", "handlers", "orelse", "finalbody", "cases"))


def statements(node: ast.AST) -> Iterator[ast.stmt]:
    """The statements in node (itself included), in ast.walk's order, without walking their expressions.

    Dropping the expressions keeps every statement at its depth, so the breadth-first order is ast.walk's.
    Only the fields that can list statements are read: ast.iter_child_nodes reads every field, the
    expressions too, and took most of the time of gradient_lines.
    """
    todo = deque([node])
    while todo:
        node = todo.popleft()
        if isinstance(node, ast.stmt):
            yield node
        for field in _statement_fields(type(node)):
            children = getattr(node, field, None)
            if isinstance(children, list):
                todo.extend(child for child in children if isinstance(child, _HOLDS_STATEMENTS))


def gradient_lines(source: str, function: str) -> dict[str, GradientLine]:
    """The last assignment of every name in the student's function (dW2 = ..., grads["dW2"] = ...)."""
    try:
        tree = load.syntax_tree(source)  # the submission's program was parsed when it was loaded
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    bodies = [node for node in statements(tree) if isinstance(node, ast.FunctionDef) and node.name == function]
    found: dict[str, GradientLine] = {}
    for body in bodies[-1:]:
        for node in statements(body):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in _targets(target):
                        previous = found.get(name)
                        if previous is None or previous.line <= node.lineno:
                            found[name] = GradientLine(node.lineno, node.value)
    return found


def constant_over_m(value: ast.expr) -> bool:
    """True when the expression has a k/m (k not 1) in it: the 1/m factor is where a stray constant sits."""
    for node in ast.walk(value):
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name)
                and node.right.id == "m" and isinstance(node.left, ast.Constant)
                and isinstance(node.left.value, (int, float)) and node.left.value != 1):
            return True
    return False


def factor_advice(description: Description, assignment: GradientLine | None) -> str:
    """Point at the 1/m factor when the student's own line holds a constant over m."""
    if description.kind == "factor" and assignment is not None and constant_over_m(assignment.value):
        return "look at the 1/m factor"
    return description.advice


# --- Matching the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True)
class Flat:
    """A gradient as the matching compares it: its shape, its entries as one float64 vector, and their norm."""

    shape: tuple[int, ...]
    vector: np.ndarray
    norm: float


# The gradients of every case, each ready for matching (None where a gradient can match nothing).
FlatGradients = tuple[Mapping[str, "Flat | None"] | None, ...]


def flat(value: Any) -> Flat | None:
    """value ready for matching, or None when it equals nothing: not a number array, or not finite.

    Call inside np.errstate(all="ignore"): the norm of huge entries overflows (and then equals nothing).
    """
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        return None
    vector = np.asarray(value, dtype=np.float64).ravel()
    norm = check.vector_norm(vector)
    return Flat(value.shape, vector, norm) if math.isfinite(norm) else None


def flat_gradients(gradients: Sequence[Mapping[str, Any] | None]) -> FlatGradients:
    """Every case's gradients made flat once, for comparing with every candidate."""
    with np.errstate(all="ignore"):
        return tuple(None if found is None else {name: flat(value) for name, value in found.items()}
                     for found in gradients)


def _matches(got: Flat | None, want: Flat | None) -> bool:
    """check.relative_difference(got, want) <= MATCH_RTOL, from the norms flat() computed once.

    Call inside np.errstate(all="ignore").
    """
    if got is None or want is None or got.shape != want.shape:
        return False
    denominator = got.norm + want.norm
    if denominator == 0.0:
        return True
    # ||got - want|| >= | ||got|| - ||want|| |: norms this far apart cannot match (twice MATCH_RTOL leaves
    # room for the norms' rounding, some 1e-13 of them), and most candidates are told apart without a subtraction.
    if abs(got.norm - want.norm) > 2 * MATCH_RTOL * denominator:
        return False
    return check.vector_norm(got.vector - want.vector) / denominator <= MATCH_RTOL


@dataclass(frozen=True)
class Candidate:
    """A catalogued mutant and its gradients on every case (None where it crashed)."""

    mutant: str
    operator: str
    misconception: str
    gradients: tuple[Mapping[str, np.ndarray] | None, ...]
    changed: frozenset[str]
    # The name the mutated line assigns in the reference (dZ3 for Y - A3), to find the student's own line.
    target: str | None = None
    # The gradients made flat once, when the candidate is made: every submission is compared with them.
    flat: FlatGradients = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat", flat_gradients(self.gradients))


def _equal(got: Any, want: Any) -> bool:
    """Both are finite number arrays of one shape whose relative difference is at most MATCH_RTOL."""
    with np.errstate(all="ignore"):
        return _matches(flat(got), flat(want))


def explains(candidate: Candidate, student: FlatGradients, wrong: set[str]) -> bool:
    """The mutant changes only wrong parameters, and on each of them equals the student on every case.

    student holds the student's gradients as flat_gradients gives them; call inside np.errstate(all="ignore").
    """
    if not candidate.changed or not candidate.changed <= wrong:
        return False
    for got, want in zip(student, candidate.flat):
        if got is None or want is None:
            return False
        if not all(_matches(got.get(name), want.get(name)) for name in candidate.changed):
            return False
    return True


def cover(candidates: Iterable[Candidate], student: Sequence[Mapping[str, Any] | None],
          wrong: Sequence[str]) -> list[Candidate]:
    """The mutants that explain the wrong parameters: the widest first, then the most specific of equals.

    Most specific: fewest parameters changed, then the catalogue's order (planted operators first).
    """
    remaining = set(wrong)
    # explains looks at the student's gradients only when the candidate changes wrong parameters alone, and
    # then only at those: most candidates are told apart here, and only wrong gradients need making flat.
    possible = [candidate for candidate in candidates if candidate.changed and candidate.changed <= remaining]
    if not possible:
        return []
    flat_student = flat_gradients([None if found is None else {name: found[name] for name in found if name in remaining}
                                   for found in student])
    with np.errstate(all="ignore"):
        matching = [candidate for candidate in possible if explains(candidate, flat_student, set(remaining))]
    chosen = []
    while remaining:
        useful = [c for c in matching if c.changed & remaining]
        if not useful:
            break
        best = min(useful, key=lambda c: (-len(c.changed & remaining), len(c.changed)))
        chosen.append(best)
        remaining -= best.changed
    return chosen


@functools.lru_cache(maxsize=8)
def catalogue_candidates(assignment_name: str) -> tuple[Candidate, ...]:
    """Every catalogued mutant of the assignment with its gradients on the graded (course-profile) cases.

    Built once per process. A catalogue that cannot be loaded gives no candidates (and is not retried
    for every submission): the descriptions still explain each wrong gradient.
    """
    try:
        return tuple(_candidates(assignment_name))
    except Exception:
        return ()


def _candidates(assignment_name: str) -> list[Candidate]:
    assignment = assignments.get(assignment_name)
    module = assignment.module
    cases = assignment.cases()
    references, _ = _true_gradients(assignment_name)
    if hasattr(module, "MUTANTS"):
        return _listed(module, cases, references)
    targets = _targets_by_line(mutate.reference_source(module))
    found = []
    for record in mutate.catalogue(assignment_name):
        if record.status in (mutate.MutantStatus.EQUIVALENT, mutate.MutantStatus.INVALID):
            continue
        gradients = tuple(mutate.mutant_gradients(assignment_name, record.id, "course", index)
                          for index in range(len(cases)))
        found.append(Candidate(record.id, record.operator, record.misconception, gradients,
                               _changed(gradients, references), targets.get(record.line)))
    return found


def _targets_by_line(source: str) -> dict[int, str]:
    """The single name each line of a function assigns (dZ3 = ... on line 4 gives {4: 'dZ3'})."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            names = _targets(node.targets[0])
            if len(names) == 1:
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    found[line] = names[0]
    return found


def _changed(gradients: Sequence[Mapping[str, Any] | None], references: Sequence[Mapping[str, np.ndarray]]) -> frozenset[str]:
    changed = set()
    for got, want in zip(gradients, references):
        if got is not None:
            changed |= {name for name in want if not _equal(got.get(name), want[name])}
    return frozenset(changed)


def _listed(module: Any, cases: Sequence[Any], references: Sequence[Mapping[str, np.ndarray]]) -> list[Candidate]:
    """An assignment's own small mutant set (module.MUTANTS, e.g. one_d's), as candidates."""
    found = []
    for mutant_id, operator, _, misconception, _ in module.MUTANTS:
        gradients = tuple(module.mutant_gradients(mutant_id, case) for case in cases)
        found.append(Candidate(mutant_id, operator, misconception, gradients, _changed(gradients, references)))
    return found


# --- The diagnosis of one backward pass ------------------------------------------------------------


def diagnose(student: Sequence[Mapping[str, Any] | None], trues: Sequence[Mapping[str, np.ndarray]],
             batch_sizes: Sequence[int], names: Sequence[str], *, candidates: Iterable[Candidate] = (),
             lines: Mapping[str, GradientLine] | None = None,
             threshold: float = check.THRESHOLD) -> tuple[Diagnosis, ...]:
    """Diagnoses of a backward pass from its gradients on every case (None where it returned nothing usable).

    A wrong parameter explained by a catalogued mutant gets that mutant's misconception; the others get a
    description of how they are wrong. Constant factors are always said as factors ("dW2 is twice the
    true gradient"), the plainest words for them.
    """
    lines = lines or {}
    descriptions = {}
    for name in names:
        # Only the cases that have this gradient (l_layer's cases differ in depth).
        graded = [index for index, true in enumerate(trues) if name in true]
        # A case whose call raised (or returned no dict) says nothing about this gradient: the others are
        # described, and its batch size tells describe where a division by zero may have raised.
        crashed = [batch_sizes[index] for index in graded if student[index] is None]
        graded = [index for index in graded if student[index] is not None]
        if not graded:
            continue
        gots = [student[index].get(name) for index in graded]
        found = describe(gots, [trues[index][name] for index in graded], [batch_sizes[index] for index in graded],
                         threshold=threshold, crashed=crashed)
        if found is not None and found.kind not in ("factor", "factor-m", "factor-m-shift", "hard-coded-m", "sign",
                                                     "nan", "zeros"):
            found = routed(name, gots, [trues[index] for index in graded]) or found
        if found is not None:
            descriptions[name] = found
    wrong = [name for name in names if name in descriptions]
    diagnoses = []
    explained: set[str] = set()
    for candidate in cover(candidates, student, wrong):
        covered = [name for name in wrong if name in candidate.changed]
        explained.update(covered)
        diagnoses.append(_matched(candidate, covered, descriptions, lines))
    groups: dict[tuple[str, str, str], list[str]] = {}
    for name in wrong:
        if name in explained:
            continue
        description = descriptions[name]
        advice = factor_advice(description, lines.get(name))
        # One wrong m for every gradient: grouped by the ratio alone (l_layer's deeper gradients are on fewer
        # cases, so their lists of factors are shorter), said with the longest list.
        said = description.singular.split(" (")[0] if description.kind in M_KINDS else description.singular
        groups.setdefault((description.kind, said, advice), []).append(name)
    for (kind, _, advice), group in groups.items():
        description = max((descriptions[name] for name in group), key=lambda found: len(found.singular))
        # A wrong m is on the line that computes m, when the student's function has one.
        line = lines["m"].line if kind in M_KINDS and "m" in lines else _line(group, lines)
        diagnoses.append(Diagnosis("", kind, sentence(group, description, advice), tuple(group), line))
    return tuple(diagnoses)


def _line(names: Sequence[str], lines: Mapping[str, GradientLine]) -> int | None:
    found = [lines[name].line for name in names if name in lines]
    return min(found) if found else None


def _matched(candidate: Candidate, covered: Sequence[str], descriptions: Mapping[str, Description],
             lines: Mapping[str, GradientLine]) -> Diagnosis:
    kinds = {descriptions[name].kind for name in covered}
    if len(covered) == 1 and kinds <= {"factor", "factor-m"}:
        name = covered[0]
        description = descriptions[name]
        advice = factor_advice(description, lines.get(name))
        if not advice and "1/m" in candidate.misconception:
            advice = "look at the 1/m factor"
        hint = sentence([name], description, advice)
    elif len({descriptions[name].singular for name in covered}) == 1 and kinds != {"other"}:
        description = descriptions[covered[0]]
        verb = description.singular if len(covered) == 1 else description.plural
        hint = f"{subject(covered)} {verb}. {candidate.misconception}"
    else:
        verb = "is wrong" if len(covered) == 1 else "are wrong"
        hint = f"{subject(covered)} {verb}. {candidate.misconception}"
    line = lines[candidate.target].line if candidate.target in lines else _line(covered, lines)
    return Diagnosis(candidate.mutant, candidate.operator, hint.strip(), tuple(covered), line)


# --- The pipeline's hook ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _true_gradients(assignment_name: str) -> tuple[tuple[dict[str, np.ndarray], ...], tuple[int, ...]]:
    assignment = assignments.get(assignment_name)
    cases = assignment.cases()
    batch_sizes = tuple(int(case.X.shape[1]) if np.ndim(case.X) >= 2 else 1 for case in cases)
    return tuple(assignment.module.reference_gradients(case) for case in cases), batch_sizes


def refine(result: CheckResult, outcomes: Sequence[Any], assignment: Assignment, settings: Any, *,
           source: str = "") -> CheckResult:
    """The backward pass's CheckResult with its diagnoses attached (unchanged when it passed or did not run).

    A diagnosis is advice: if making it fails, the grade stands without it.
    """
    # An error on some cases (m - 1 = 0 where m = 1) leaves the others' gradients to diagnose from.
    if result.status not in (Status.FAIL, Status.ERROR):
        return result
    try:
        return _refine(result, outcomes, assignment, settings, source=source)
    except Exception:
        return result


def _refine(result: CheckResult, outcomes: Sequence[Any], assignment: Assignment, settings: Any, *,
            source: str) -> CheckResult:
    from grader.grading import backward
    trues, batch_sizes = _true_gradients(assignment.name)
    # Every gradient some case has, in order (l_layer's deeper cases have more).
    names = list(dict.fromkeys([*assignment.gradient_names, *(name for true in trues for name in true)]))
    student = []
    for outcome, true in zip(outcomes, trues):
        gradients, _ = (backward.gradients_of(outcome.value, list(true)) if outcome.status is CallStatus.OK
                        else (None, ""))
        student.append(gradients)
    lines = gradient_lines(source, assignment.backward) if source else {}
    candidates = catalogue_candidates(assignment.name)
    diagnoses = diagnose(student, trues, batch_sizes, names, candidates=candidates,
                         lines=lines, threshold=settings.threshold)
    return dataclasses.replace(result, diagnosis=diagnoses)
