"""A call's inputs and what it did to them: references, fresh copies, fitted arguments, changes in place."""
from __future__ import annotations

import builtins
import copy
import inspect
from typing import Any

import numpy as np

from grader.sandbox import wire

# Bound now, before student code can patch numpy, so the in-place check cannot be switched off.
_array_equal = np.array_equal
_ndarray = np.ndarray


def same(before: Any, after: Any) -> bool:
    """Whether an argument is unchanged after a call (arrays compared by value, NaN equal to NaN)."""
    if isinstance(before, _ndarray):
        if not (isinstance(after, _ndarray) and before.shape == after.shape):
            return False
        # Equal bytes of one numeric dtype are equal values (NaN included): the usual case, without
        # array_equal's several passes. Anything else is decided by value.
        if (type(after) is _ndarray and after.dtype == before.dtype and before.dtype.kind in "biufc"
                and before.tobytes() == after.tobytes()):
            return True
        return bool(_array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(same(before[key], after[key]) for key in before))
    if isinstance(before, (list, tuple)):
        return (type(after) is type(before) and len(before) == len(after)
                and all(same(x, y) for x, y in zip(before, after)))
    return type(before) is type(after) and before == after


_ATOMS = frozenset({type(None), bool, int, float, complex, str, bytes})
_MISSING = object()


def fresh_copy(value: Any, memo: dict[int, Any]) -> Any:
    """copy.deepcopy(value, memo), quicker for what the wire carries: dicts, lists, tuples, numeric arrays.

    Whatever else an argument holds (a value a student's earlier call returned) goes to copy.deepcopy
    with the same memo, so an object that appears twice in the arguments is one object in the copy too.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    found = memo.get(id(value), _MISSING)
    if found is not _MISSING:
        return found
    if kind is _ndarray and value.dtype.kind in "biufc":
        copied = memo[id(value)] = value.copy(order="K")
    elif kind is dict:
        copied = memo[id(value)] = {}
        for key, item in value.items():
            copied[fresh_copy(key, memo)] = fresh_copy(item, memo)
    elif kind is list:
        copied = memo[id(value)] = []
        copied.extend(fresh_copy(item, memo) for item in value)
    elif kind is tuple:
        items = [fresh_copy(item, memo) for item in value]
        found = memo.get(id(value), _MISSING)  # a tuple reached again through a list inside it
        if found is not _MISSING:
            return found
        copied = memo[id(value)] = value if all(x is y for x, y in zip(items, value)) else tuple(items)
    else:
        return copy.deepcopy(value, memo)
    return copied


def waits_in_vain(condition: Any, index: int, returned: dict[int, Any]) -> str:
    """Why a call with only_if_below=condition is not run, or "" when it runs."""
    if not condition:
        return ""
    back, bound = condition
    try:
        number = wire.one_number(returned[index - back]) if index - back in returned else None
        met = number is not None and 0 <= number < bound
    except BaseException:  # whatever the submission returned, the run goes on
        met = False
    return "" if met else f"call {index - back} did not return a number in [0, {bound:g})"


class UnresolvedRef(Exception):
    """An argument refers to an earlier call that returned nothing usable."""


def resolve(value: Any, returned: dict[int, Any]) -> Any:
    """Replace the grader's reference markers with the values earlier calls returned."""
    if isinstance(value, dict):
        if set(value) == {wire.REF_MARKER}:
            call, item = value[wire.REF_MARKER]
            if call not in returned:
                raise UnresolvedRef(f"its input comes from call {call}, which did not return")
            result = returned[call]
            if item < 0:
                return result
            try:
                return result[item]
            except Exception:
                raise UnresolvedRef(f"its input is item {item} of what call {call} returned, which has none") from None
        return {key: resolve(item, returned) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(item, returned) for item in value)
    return value


_UNBOUND = object()


def fit_arguments(function: Any, args: tuple, kwargs: dict[str, Any], optional: list[str]
                  ) -> tuple[tuple, dict[str, Any], list[str]]:
    """args and kwargs fitted to the signature the student wrote, and the optional arguments left out.

    The last len(optional) items of args are optional, named by optional: each goes by keyword where the
    function has a parameter of that name, by position where it takes one more positional argument (one
    whose default is not a flag or a text, so that epsilon never lands in print_msg), and is left out where
    it takes neither. A signature that cannot be read leaves the arguments as they are.
    """
    if not optional or len(optional) > len(args):
        return args, kwargs, []
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except Exception:  # a builtin, or a signature the student's code makes unreadable
        return args, kwargs, []
    kinds = inspect.Parameter
    named = {parameter.name: parameter for parameter in parameters
             if parameter.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)}
    positional = [parameter for parameter in parameters
                  if parameter.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    any_positional = any(parameter.kind is kinds.VAR_POSITIONAL for parameter in parameters)
    any_keyword = any(parameter.kind is kinds.VAR_KEYWORD for parameter in parameters)
    fitted, fitted_kwargs, left_out = list(args[:len(args) - len(optional)]), dict(kwargs), []
    for name, value in zip(optional, args[len(args) - len(optional):]):
        position = len(fitted)
        if name in named and named[name] not in positional[:position]:
            fitted_kwargs[name] = value
        elif not fitted_kwargs.keys() - kwargs.keys() and (any_positional or (
                position < len(positional) and positional[position].name not in fitted_kwargs
                and not isinstance(positional[position].default, (bool, str)))):
            fitted.append(value)
        elif any_keyword:
            fitted_kwargs[name] = value
        else:
            left_out.append(name)
    return tuple(fitted), fitted_kwargs, left_out


def bind_sources(namespace: dict[str, Any], bind: dict[str, str]) -> dict[str, Any]:
    """Define each {name: source} (the grader's own code) over the submission's global for one call.

    Returns what to restore afterwards with unbind.
    """
    saved = {}
    for name, source in bind.items():
        scope: dict[str, Any] = {"__builtins__": builtins, "np": np}
        try:
            exec(compile(source, "<gradgrade>", "exec"), scope)
        except BaseException:
            continue
        if name in scope:
            saved[name] = namespace.get(name, _UNBOUND)
            namespace[name] = scope[name]
    return saved


def unbind(namespace: dict[str, Any], saved: dict[str, Any]) -> None:
    for name, value in saved.items():
        if value is _UNBOUND:
            namespace.pop(name, None)
        else:
            namespace[name] = value
