"""A call's inputs: copied as deepcopy would, compared for changes made in place, fitted to the student's signature."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.sandbox import calls

arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]),
                    hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3) | arrays
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=2), inner, max_size=3), max_leaves=12)


def shape_of(value, seen):
    """The value's structure with every object replaced by the order it was first met in: sharing shows."""
    if type(value) in (type(None), bool, int, float, str):
        return ("atom", type(value).__name__)
    if id(value) in seen:
        return ("seen", seen[id(value)])
    seen[id(value)] = len(seen)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.flags.f_contiguous, value.tobytes())
    if isinstance(value, dict):
        return ("dict", tuple((key, shape_of(item, seen)) for key, item in value.items()))
    return (type(value).__name__, tuple(shape_of(item, seen) for item in value))


def objects_in(value, found):
    if isinstance(value, (list, tuple)):
        for item in value:
            objects_in(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            objects_in(item, found)
    if not isinstance(value, (type(None), bool, int, float, str, tuple)):
        found.append(value)
    return found


@settings(max_examples=150, deadline=None)
@given(values, st.data())
def test_fresh_copy_is_what_deepcopy_makes(value, data):
    shared = data.draw(arrays)
    value = [value, shared, {"again": shared, "nested": (shared, value)}]
    got, want = calls.fresh_copy(value, {}), copy.deepcopy(value)
    assert shape_of(got, {}) == shape_of(want, {})
    originals = {id(item) for item in objects_in(value, [])}
    assert not any(id(item) in originals for item in objects_in(got, []))


def test_fresh_copy_keeps_fortran_order_and_a_list_that_holds_itself():
    looped: list = [np.asfortranarray(np.arange(6.0).reshape(2, 3))]
    looped.append(looped)
    got = calls.fresh_copy(looped, {})
    assert got[1] is got and got is not looped
    assert got[0].flags.f_contiguous and np.array_equal(got[0], looped[0]) and got[0] is not looped[0]


def test_fresh_copy_hands_other_objects_to_their_own_deepcopy_with_the_same_memo():
    class Remembers:
        def __deepcopy__(self, memo):
            copied = Remembers()
            copied.memo = memo
            return copied

    inner = np.zeros(2)
    value = {"a": inner, "b": Remembers()}
    memo: dict = {}
    got = calls.fresh_copy(value, memo)
    assert got["b"].memo is memo and memo[id(inner)] is got["a"]


@pytest.mark.parametrize("before, after, expected", [
    pytest.param(np.arange(4.0), np.arange(4.0), True, id="equal"),
    pytest.param(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), True, id="nan-equal"),
    pytest.param(np.array([np.nan]), np.array([-np.nan]), True, id="nan-of-other-bits"),
    pytest.param(np.array([0.0]), np.array([-0.0]), True, id="signed-zero"),
    pytest.param(np.arange(4.0), np.arange(4.0)[::-1], False, id="changed"),
    pytest.param(np.arange(4.0), np.arange(4.0).reshape(2, 2), False, id="reshaped"),
    pytest.param(np.arange(4.0), np.arange(4, dtype=np.float32), True, id="other-dtype-same-values"),
    pytest.param(np.arange(4.0), np.arange(4.0).view(np.matrix).reshape(4), False, id="subclass-other-shape"),
    pytest.param(np.asfortranarray(np.eye(2)), np.eye(2), True, id="other-order"),
    pytest.param({"a": np.zeros(2)}, {"a": np.zeros(2), "b": 1}, False, id="key-added"),
    pytest.param((np.zeros(2),), [np.zeros(2)], False, id="tuple-became-list"),
])
def test_same_judges_by_value(before, after, expected):
    assert calls.same(before, after) is expected


# Fitting a checker's optional epsilon to the signature the student wrote.

def _course(parameters, gradients, X, Y, epsilon=1e-7): ...
def _no_epsilon(parameters, gradients, X, Y): ...
def _eps(parameters, gradients, X, Y, eps=1e-7): ...
def _print_msg_first(parameters, gradients, X, Y, print_msg=False, epsilon=1e-7): ...
def _print_msg_only(parameters, gradients, X, Y, print_msg=False): ...
def _star_args(*args): ...
def _star_kwargs(parameters, gradients, X, Y, **options): ...
def _keyword_only(parameters, gradients, X, Y, *, epsilon=1e-7): ...


class _UnreadableSignature:
    """A callable whose signature a student's code made unreadable."""

    __signature__ = "not a signature"

    def __call__(self, *args): ...


@pytest.mark.parametrize("function, args, kwargs, left_out", [
    pytest.param(_course, ("p", "g", "X", "Y"), {"epsilon": 1e-2}, [], id="course-epsilon-by-keyword"),
    pytest.param(_no_epsilon, ("p", "g", "X", "Y"), {}, ["epsilon"], id="no-epsilon-left-out"),
    pytest.param(_eps, ("p", "g", "X", "Y", 1e-2), {}, [], id="other-name-by-position"),
    pytest.param(_print_msg_first, ("p", "g", "X", "Y"), {"epsilon": 1e-2}, [], id="never-into-print_msg"),
    pytest.param(_print_msg_only, ("p", "g", "X", "Y"), {}, ["epsilon"], id="only-a-flag-left-out"),
    pytest.param(_star_args, ("p", "g", "X", "Y", 1e-2), {}, [], id="star-args-by-position"),
    pytest.param(_star_kwargs, ("p", "g", "X", "Y"), {"epsilon": 1e-2}, [], id="star-kwargs-by-keyword"),
    pytest.param(_keyword_only, ("p", "g", "X", "Y"), {"epsilon": 1e-2}, [], id="keyword-only"),
    pytest.param(_UnreadableSignature(), ("p", "g", "X", "Y", 1e-2), {}, [], id="unreadable-signature-as-given"),
])
def test_an_optional_argument_fits_the_signature_the_student_wrote(function, args, kwargs, left_out):
    assert calls.fit_arguments(function, ("p", "g", "X", "Y", 1e-2), {}, ["epsilon"]) == (args, kwargs, left_out)


def test_arguments_without_optional_ones_are_left_as_they_are():
    assert calls.fit_arguments(_no_epsilon, ("p", "g", "X", "Y", 1e-2), {}, []) == (("p", "g", "X", "Y", 1e-2), {}, [])
