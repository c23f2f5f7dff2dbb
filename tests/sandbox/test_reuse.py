"""Reusing a submission's results for byte-identical arguments: only what the function shows it would
compute again, and the checker's outcomes exactly as without it."""
from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader import assignments
from grader.grading import pipeline
from grader.sandbox import reuse
from grader.sandbox.calls import same
from grader.load import program as load
from grader.sandbox import run as sandbox
from grader.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHECKERS = Path(__file__).resolve().parents[1] / "checkers"

# --- the key ----------------------------------------------------------------------------------------------

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=3)
    | hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64]), hnp.array_shapes(max_dims=2, max_side=3)),
    lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=2), inner, max_size=3),
    max_leaves=8)


def key_of(value):
    """The key of one value: that of a call with it as the only argument."""
    return reuse.call_key((value,), {})


def _identical(a, b) -> bool:
    """The oracle: same types all the way down, and the same bytes in every float and array."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
                and a.tobytes() == b.tobytes())
    if isinstance(a, float):
        return a.hex() == b.hex()
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b))
    return a == b


@given(values)
def test_a_copy_has_the_same_key(value):
    assert key_of(value) is not None
    assert key_of(copy.deepcopy(value)) == key_of(value)


@given(values, values)
def test_two_values_share_a_key_only_when_identical(a, b):
    assert (key_of(a) == key_of(b)) is _identical(a, b)


@pytest.mark.parametrize("a, b", [
    pytest.param(0.0, -0.0, id="signed-zero"),
    pytest.param(1, 1.0, id="int-float"),
    pytest.param(1, True, id="int-bool"),
    pytest.param(np.zeros((2, 1)), np.zeros((1, 2)), id="shape"),
    pytest.param(np.zeros(2), np.zeros(2, dtype=np.float32)[:2].astype(np.float64).view(np.int64), id="dtype"),
    pytest.param(np.arange(6.0).reshape(2, 3), np.asfortranarray(np.arange(6.0).reshape(2, 3)), id="layout"),
    pytest.param({"a": 1, "b": 2}, {"b": 2, "a": 1}, id="dict-order"),
    pytest.param([1, 2], (1, 2), id="list-tuple"),
    pytest.param(["ab"], ["a", "b"], id="string-split"),
])
def test_values_that_differ_have_different_keys(a, b):
    assert key_of(a) != key_of(b)


def test_nan_has_a_key_and_equals_itself():
    assert key_of(np.array([np.nan])) == key_of(np.array([np.nan]))
    assert key_of(float("nan")) == key_of(float("nan"))


@pytest.mark.parametrize("value", [
    pytest.param(object(), id="object"),
    pytest.param(np.array([object()]), id="object-array"),
    pytest.param(np.array(["a"]), id="string-array"),
    pytest.param(np.ma.array([1.0]), id="array-subclass"),
    pytest.param({"W1": np.ones(2), "f": print}, id="a-function-inside"),
])
def test_what_it_cannot_compare_by_bytes_has_no_key(value):
    assert key_of(value) is None


def test_a_list_that_holds_itself_has_no_key():
    looped: list = []
    looped.append(looped)
    assert key_of(looped) is None


calls = st.tuples(st.lists(values, max_size=3).map(tuple), st.dictionaries(st.text(max_size=2), values, max_size=2))


@given(calls, calls)
def test_two_calls_share_a_key_only_when_their_arguments_are_identical(a, b):
    assert reuse.call_key(*a) is not None
    assert (reuse.call_key(*a) == reuse.call_key(*b)) is _identical(a, b)


@pytest.mark.parametrize("a, b", [
    pytest.param(((1, 2), {}), (((1, 2),), {}), id="two-arguments-or-one-tuple"),
    pytest.param(((1,), {"x": 2}), ((1, 2), {}), id="keyword-or-positional"),
    pytest.param(((), {}), (((),), {}), id="none-or-an-empty-tuple"),
    pytest.param(((np.zeros(2),), {}), ((np.zeros(2), {}), {}), id="an-array-then-nothing-or-an-empty-dict"),
])
def test_calls_that_differ_have_different_keys(a, b):
    assert reuse.call_key(*a) != reuse.call_key(*b)


def test_a_call_with_an_argument_it_cannot_compare_has_no_key():
    assert reuse.call_key((np.ones(2), np.array(["a"])), {}) is None
    assert reuse.call_key((np.ones(2),), {"f": print}) is None


# --- when results are reused ------------------------------------------------------------------------------

def _counted(function):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return counted, calls


def _pass(wrapper, inputs):
    return [wrapper(x, scale=2.0) for x in inputs]


def test_a_pure_function_is_computed_again_only_until_its_repeats_are_trusted():
    function, calls = _counted(lambda x, scale: (float(x.sum() * scale), x * scale))
    entry = reuse.Reused(function, same)
    inputs = [np.full((2, 2), float(i)) for i in range(6)]
    first = _pass(entry.wrapper, inputs)
    assert len(calls) == 6 and not entry.trusted
    second = _pass(entry.wrapper, [x.copy() for x in inputs])  # equal values, other arrays
    assert len(calls) == 6 + reuse.REPEATS_TO_TRUST and entry.trusted
    third = _pass(entry.wrapper, inputs)
    assert len(calls) == 6 + reuse.REPEATS_TO_TRUST
    for results in (second, third):
        assert all(same(a, b) for a, b in zip(first, results))
    entry.wrapper(np.full((2, 2), 9.0), scale=2.0)  # a new input is computed, trusted or not
    assert len(calls) == 7 + reuse.REPEATS_TO_TRUST


@pytest.mark.parametrize("make", [
    pytest.param(lambda: (lambda rng: lambda x: float(x.sum() + rng.standard_normal()))(np.random.default_rng(0)),
                 id="random"),
    pytest.param(lambda: (lambda seen: lambda x: seen.append(1) or float(x.sum() + len(seen)))([]),
                 id="counts-its-calls"),
])
def test_a_function_whose_result_changes_is_never_reused(make):
    function, calls = _counted(make())
    entry = reuse.Reused(function, same)
    inputs = [np.full(3, float(i)) for i in range(4)]
    for _ in range(4):
        results = [entry.wrapper(x) for x in inputs]
    assert entry.broken and not entry.kept and len(calls) == 16
    assert len(set(results)) == 4  # every call returned what the function itself returned


def test_a_caller_that_changes_the_result_it_gets_is_never_reused():
    function, calls = _counted(lambda x: x * 2)
    entry = reuse.Reused(function, same)
    for _ in range(3):
        for i in range(4):
            result = entry.wrapper(np.full(3, float(i)))
            result[0] = -1.0  # a caller scribbling on what it was given
    assert entry.broken and len(calls) == 12
    assert entry.wrapper(np.full(3, 1.0))[0] == 2.0


def test_a_function_that_raises_on_a_repeat_is_never_reused():
    state = {"raise": False}

    def flaky(x):
        if state["raise"]:
            raise ValueError("now it fails")
        return x + 1

    entry = reuse.Reused(flaky, same)
    entry.wrapper(1.0)
    state["raise"] = True
    with pytest.raises(ValueError, match="now it fails"):
        entry.wrapper(1.0)
    assert entry.broken


def test_arguments_without_a_key_are_computed_every_time():
    function, calls = _counted(lambda x: len(x))
    entry = reuse.Reused(function, same)
    for _ in range(6):
        entry.wrapper([object()])
    assert len(calls) == 6 and not entry.kept and not entry.broken


def test_the_wrapper_looks_like_the_function_and_goes_back_after_the_call():
    def forward_propagation_n(X, Y, parameters):
        """The student's forward pass."""
        return 0.0

    namespace = {"forward_propagation_n": forward_propagation_n, "threshold": 1e-7}
    reused: dict = {}
    saved = reuse.reuse(namespace, ["forward_propagation_n", "threshold", "absent"], reused, same)
    wrapper = namespace["forward_propagation_n"]
    assert wrapper is not forward_propagation_n and wrapper.__name__ == "forward_propagation_n"
    assert wrapper.__doc__ == "The student's forward pass." and namespace["threshold"] == 1e-7
    reuse.restore(namespace, saved, reused)
    assert namespace == {"forward_propagation_n": forward_propagation_n, "threshold": 1e-7}
    reuse.reuse(namespace, ["forward_propagation_n"], reused, same)
    assert namespace["forward_propagation_n"] is wrapper  # the same kept results from call to call

    def redefined(X, Y, parameters):
        return 1.0
    namespace["forward_propagation_n"] = redefined
    reuse.reuse(namespace, ["forward_propagation_n"], reused, same)
    assert reused["forward_propagation_n"].function is redefined and not reused["forward_propagation_n"].kept


# --- in the sandbox: the checker's outcomes exactly as without it --------------------------------------

def _checker_outcomes(path: Path, *, reusing: bool) -> list:
    settings = Settings()
    graders, calls_by_grader, inject = pipeline.plan(assignments.get(settings.assignment), settings)
    calls = [call if reusing else replace(call, reuse=()) for call in calls_by_grader[graders.index(pipeline.checker)]]
    assert any(call.reuse for call in calls_by_grader[graders.index(pipeline.checker)])
    program = load.load(path)
    run = sandbox.run(program.source, calls, filename=program.filename, inject=inject)
    assert run.status is sandbox.RunStatus.OK, run.message
    return run.outcomes


@pytest.mark.parametrize("path", [
    pytest.param(ROOT / "submissions" / "correct_matmul.py", id="own-forward"),
    pytest.param(ROOT / "submissions" / "correct_course_style.ipynb", id="notebook"),
    pytest.param(CHECKERS / "correct_course.py", id="course-helpers"),
    pytest.param(CHECKERS / "counting_forward.py", id="forward-counts-its-calls"),
])
def test_a_checker_reads_the_same_differences_with_reuse_as_without(path):
    with_reuse, without = _checker_outcomes(path, reusing=True), _checker_outcomes(path, reusing=False)
    assert [o.status for o in with_reuse] == [o.status for o in without]
    assert [o.value for o in with_reuse] == [o.value for o in without]
    assert [o.message for o in with_reuse] == [o.message for o in without]
    assert any(o.status is sandbox.CallStatus.OK for o in with_reuse)


def test_a_function_the_call_defines_again_keeps_its_new_definition():
    def forward_propagation_n(X, Y, parameters):
        return 0.0

    def defined_by_the_call(X, Y, parameters):
        return 1.0

    namespace = {"forward_propagation_n": forward_propagation_n}
    reused: dict = {}
    saved = reuse.reuse(namespace, ["forward_propagation_n"], reused, same)
    namespace["forward_propagation_n"] = defined_by_the_call  # `global forward_propagation_n` in a checker
    reuse.restore(namespace, saved, reused)
    assert namespace["forward_propagation_n"] is defined_by_the_call
