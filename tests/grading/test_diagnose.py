"""Diagnosis: the course's planted bugs named exactly, every buggy sample diagnosed, and the no-match descriptions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader.grading import description, diagnose, matching, pipeline, source_lines
from grader.results import Status
from grader.settings import Settings
from grader.sandbox.wire import Opaque

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
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


def test_gradient_lines_find_the_students_assignment():
    source = "def backward_propagation_n(X, Y, cache):\n    dW2 = 1\n    dW2 = 2 * dW2\n    dW1, db1 = f()\n" \
             "    grads['db3'] = 3\n"
    lines = source_lines.gradient_lines(source, "backward_propagation_n")
    assert (lines["dW2"].line, lines["dW1"].line, lines["db1"].line, lines["db3"].line) == (3, 4, 4, 5)
    assert source_lines.gradient_lines("def broken(:\n", "backward_propagation_n") == {}


NESTED = """\
def outer():
    try:
        x = 1
    except ValueError:
        def backward_propagation_n():
            dW1 = 1; dW1 = 2
    match x:
        case 1:
            y = [lambda: 0 for _ in range(2)]
    while x:
        if y:
            class C:
                def backward_propagation_n():
                    db1 = 3
    with open(x) as f:
        z = 2
"""


# Every kind of statement that holds statements, nested in one another.
EVERY_BLOCK = """
async def f(x):
    async for a in x:
        b = 1
    else:
        c = 2
    async with x as y:
        d = lambda: (e if e else f)
    try:
        g = 3
    except ValueError as error:
        h = 4
    else:
        i = 5
    finally:
        j = 6
for k in x:
    match k:
        case [1, *rest] if rest:
            l = 7
        case _:
            try:
                m = 8
            except* KeyError:
                n = 9
else:
    o = [p for p in x]
class Q(object, metaclass=type):
    @staticmethod
    def r() -> None:
        while s:
            break
"""


@pytest.mark.parametrize("source", [pytest.param(NESTED, id="nested"), pytest.param(EVERY_BLOCK, id="every-block"),
                                    pytest.param("x = 1", id="one-line"), pytest.param("", id="empty")])
def test_statements_come_in_ast_walks_order(source):
    import ast

    tree = ast.parse(source)
    assert list(source_lines.statements(tree)) == [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    for node in ast.walk(tree):
        assert list(source_lines.statements(node)) == [inner for inner in ast.walk(node) if isinstance(inner, ast.stmt)]


def test_gradient_lines_take_the_last_definition_in_walk_order_and_the_last_assignment_on_a_line():
    lines = source_lines.gradient_lines(NESTED, "backward_propagation_n")
    assert set(lines) == {"db1"} and lines["db1"].line == 14
    lines = source_lines.gradient_lines(NESTED.replace("def backward_propagation_n():\n                    db1", "def f():\n                    db1"),
                                    "backward_propagation_n")
    assert lines["dW1"].line == 6 and lines["dW1"].value.value == 2


def test_constant_over_m_is_seen_in_the_students_line():
    lines = source_lines.gradient_lines("def f():\n    db1 = 4. / m * s\n    dW2 = 1. / m * d * 2\n", "f")
    assert source_lines.constant_over_m(lines["db1"].value) and not source_lines.constant_over_m(lines["dW2"].value)


@pytest.fixture(scope="module")
def graded():
    cache = {}

    def grade(name: str):
        if name not in cache:
            cache[name] = pipeline.grade_file(SUBMISSIONS / f"{name}.py", Settings()).check("backward_propagation_n")
        return cache[name]
    return grade


def test_the_course_planted_bugs_come_out_exactly(graded):
    check = graded("planted_bugs")
    hints = {diagnosis.hint for diagnosis in check.diagnosis}
    assert hints == {"dW2 is twice the true gradient", "db1 is 4 times the true gradient: look at the 1/m factor"}
    lines = {diagnosis.parameters: diagnosis.line for diagnosis in check.diagnosis}
    assert lines == {("dW2",): 15, ("db1",): 21}
    assert all(diagnosis.mutant and diagnosis.operator for diagnosis in check.diagnosis)


FOLDERS = {"three_layer": SUBMISSIONS, "l_layer": SUBMISSIONS / "l_layer", "one_d": SUBMISSIONS / "one_d"}
BUGGY = [pytest.param(assignment, path.name, id=f"{assignment}-{path.stem}")
         for assignment, folder in FOLDERS.items() for path in sorted(folder.glob("*.py"))
         if not path.stem.startswith("correct")]


def test_the_sample_class_has_buggy_submissions_of_every_assignment():
    assert {param.values[0] for param in BUGGY} == set(FOLDERS)


@pytest.mark.parametrize("assignment, filename", BUGGY)
def test_every_buggy_sample_gets_a_diagnosis_with_a_hint_for_each_wrong_parameter(assignment, filename):
    result = pipeline.grade_file(FOLDERS[assignment] / filename, Settings(assignment=assignment))
    check = result.checks[0]
    assert check.status is Status.FAIL
    wrong = {parameter.name for parameter in check.parameters if parameter.status is Status.FAIL}
    assert check.diagnosis, name
    assert all(diagnosis.hint for diagnosis in check.diagnosis)
    assert {name_ for diagnosis in check.diagnosis for name_ in diagnosis.parameters} == wrong


@pytest.mark.parametrize("name, operator, words", [
    pytest.param("sign_flip", "sign-swap-difference", "have the wrong sign", id="sign-flip"),
    pytest.param("wrong_mask", "mask-greater-equal", "ReLU mask", id="wrong-mask"),
    pytest.param("missing_m", "scale-drop-m", "the 1/m factor is missing", id="missing-m"),
    pytest.param("missing_transpose", None, "is transposed", id="missing-transpose"),
    pytest.param("keepdims_dropped", "reduce-drop-keepdims", "keepdims", id="keepdims"),
])
def test_samples_are_named_for_their_bug(graded, name, operator, words):
    check = graded(name)
    assert any(operator in (None, diagnosis.operator) and words in diagnosis.hint for diagnosis in check.diagnosis), \
        [diagnosis.to_json() for diagnosis in check.diagnosis]


def test_a_correct_backward_pass_gets_no_diagnosis(graded):
    assert graded("correct_course_style").diagnosis == ()


def test_the_diagnosis_shows_in_text_and_json():
    from grader.report import render
    result = pipeline.grade_file(SUBMISSIONS / "planted_bugs.py", Settings())
    assert "hint [scale-double-gradient-6] (line 15): dW2 is twice the true gradient" in render.text(result)
    diagnosis = result.to_json()["checks"][0]["diagnosis"]
    assert {"mutant", "operator", "hint"} <= set(diagnosis[0])


@pytest.mark.parametrize("name, line", [
    pytest.param("sign_flip", 8, id="sign-flip-points-at-dZ3"),
    pytest.param("wrong_mask", 16, id="wrong-mask-points-at-dZ1"),
])
def test_a_match_points_at_the_students_line_the_bug_is_on(graded, name, line):
    assert [diagnosis.line for diagnosis in graded(name).diagnosis] == [line]


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
    for candidate in matching.catalogue_candidates("three_layer"):
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
    candidates = matching.catalogue_candidates("three_layer")
    trues, _ = matching._true_gradients("three_layer")
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


# A wrong m: a different factor on every case, fitted against each case's batch size.

BACKWARD_PASSES = Path(__file__).resolve().parents[1] / "backward_passes"


@pytest.mark.parametrize("name, status, words, advice", [
    pytest.param("m_minus_one", Status.ERROR, "m/(m-1) times the true one", "check how m is computed",
                 id="m-minus-one-raises-on-m1"),
    pytest.param("m_minus_one_numpy", Status.FAIL, "m/(m-1) times the true one", "check how m is computed",
                 id="m-minus-one-inf-on-m1"),
    pytest.param("m_hard_coded", Status.FAIL, "m_true/3 times the true one", "m is hard-coded to 3",
                 id="m-hard-coded-to-3"),
])
def test_a_wrong_m_is_described_from_the_factor_on_each_case(name, status, words, advice):
    check = pipeline.grade_file(BACKWARD_PASSES / f"{name}.py", Settings()).check("backward_propagation_n")
    assert check.status is status
    [diagnosis] = check.diagnosis
    assert words in diagnosis.hint and diagnosis.hint.endswith(advice), diagnosis.hint
    assert set(diagnosis.parameters) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    assert diagnosis.line == 7  # the line that computes m


def test_a_division_by_zero_on_the_one_example_case_is_named_with_the_others_factors():
    check = pipeline.grade_file(BACKWARD_PASSES / "m_minus_one_numpy.py", Settings()).check("backward_propagation_n")
    assert "1.5 at m = 3, 2 at m = 2, 1.25 at m = 5 and 1.07 at m = 16" in check.diagnosis[0].hint
    assert "where m = 1, m-1 = 0: a division by zero" in check.diagnosis[0].hint


def test_a_crash_on_the_one_example_case_does_not_hide_what_the_other_cases_gave():
    from grader.report import render
    result = pipeline.grade_file(BACKWARD_PASSES / "m_minus_one.py", Settings())
    check = result.check("backward_propagation_n")
    assert check.status is Status.ERROR and "ZeroDivisionError" in check.message
    by_case = {case.case: case for case in check.cases}
    assert by_case["hidden-m1"].status is Status.ERROR and by_case["hidden-m1"].difference is None
    assert all(case.difference is not None for name, case in by_case.items() if name != "hidden-m1")
    report = " ".join(render.text(result).split())
    assert "per case:" in report
    assert f"hidden-m2: FAIL, difference {render.format_difference(by_case['hidden-m2'].difference)}" in report
    assert "hidden-m1: ERROR, difference -: raised ZeroDivisionError" in report
    assert "m/(m-1) times the true one" in report


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


@pytest.mark.parametrize("m_line, words", [
    pytest.param("    m = A_prev.shape[1] - 1", "m/(m-1) times the true one", id="m-minus-one"),
    pytest.param("    m = 4", "m is hard-coded to 4", id="hard-coded"),
])
def test_a_wrong_m_in_an_l_layer_helper_is_one_hint_for_every_layer(tmp_path, m_line, words):
    source = (SUBMISSIONS / "l_layer" / "correct_course.py").read_text()
    assert source.count("    m = A_prev.shape[1]\n") == 1
    path = tmp_path / "wrong_m.py"
    path.write_text(source.replace("    m = A_prev.shape[1]\n", m_line + "\n"))
    check = pipeline.grade_file(path, Settings(assignment="l_layer")).check("L_layer_backward")
    [diagnosis] = check.diagnosis
    assert words in diagnosis.hint
    assert set(diagnosis.parameters) == {f"d{kind}{layer}" for layer in range(1, 5) for kind in "Wb"}
