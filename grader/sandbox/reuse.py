"""A submission's function whose results are reused for byte-identical arguments, inside the sandboxed child.

A gradient checker calls the forward pass twice per parameter, and the grader runs the checker once per
probe (the reference's gradients, then each mutant's) on the same case: from the second probe on, every
forward pass repeats one already made. The child keeps each distinct input's result and, once the function
has shown on a few repeats that it returns what it returned before, hands the kept result back instead of
computing it again. A function whose result changes from one call to the next (it draws random numbers or
counts its calls), or whose result its caller changes in place, fails that test and is never reused: its
every call runs, as it would without this module. What a reused call would have printed or warned again
is not printed again: the function's output appears once per distinct input.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Hashable

import numpy as np

# Repeats whose recomputed result must equal the kept one before kept results are handed back.
REPEATS_TO_TRUST = 3
# Inputs kept per function; past that the oldest go (a probe's case has at most 2 x 80 perturbed inputs).
MOST_KEPT = 1024

_ATOMS = frozenset({type(None), bool, int, str, bytes})
_MISSING = object()
_ndarray = np.ndarray
_NUMERIC = "biufc"  # the dtype kinds an array's bytes say everything about
_FLOAT64 = np.dtype(np.float64)  # nearly every array a forward pass gets: numeric without asking its kind


def call_key(args: tuple, kwargs: dict[str, Any]) -> Hashable | None:
    """A key equal for byte-identical arguments only (-0.0 is not 0.0, each NaN equals itself; arrays of the
    same values laid out differently differ), or None when an argument holds anything but numbers, strings,
    numeric arrays and dicts, lists and tuples of them.

    The number of positional arguments, then each, then the keyword arguments if any: each value's parts
    tell where it ends, so no two calls' arguments give the same parts. Built from the arguments as the
    wrapper gets them, without wrapping them in a container first: it runs once per forward pass.
    """
    parts: list[Any] = [len(args)]
    try:
        for arg in args:
            if not _flatten(arg, parts):
                return None
        if kwargs and not _flatten(kwargs, parts):
            return None
    except RecursionError:
        return None
    return tuple(parts)


def _flatten(value: Any, parts: list[Any]) -> bool:
    """Append value to parts so that no two values give the same parts: a container's type and length
    before its items, an atom's type before it, an array's dtype (a type of its own) before its shape,
    strides and bytes, a dict's string key bare (a string is neither a type nor a dtype). Written out flat,
    each group of parts added at once: it runs once per forward pass."""
    kind = type(value)
    if kind is _ndarray:
        dtype = value.dtype
        if dtype is not _FLOAT64 and dtype.kind not in _NUMERIC:
            return False
        parts += (dtype, value.shape, value.strides, value.tobytes())
        return True
    if kind is dict:
        parts += (kind, len(value))
        for key, item in value.items():
            if type(key) is str:
                parts.append(key)
            elif not _flatten(key, parts):
                return False
            if type(item) is _ndarray:
                dtype = item.dtype
                if dtype is not _FLOAT64 and dtype.kind not in _NUMERIC:
                    return False
                parts += (dtype, item.shape, item.strides, item.tobytes())
            elif not _flatten(item, parts):
                return False
        return True
    if kind is tuple or kind is list:
        parts += (kind, len(value))
        for item in value:
            if not _flatten(item, parts):
                return False
        return True
    if kind is float:
        parts += (kind, value.hex())
        return True
    if kind in _ATOMS:
        parts += (kind, value)
        return True
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC:
        parts += (kind, value.tobytes())
        return True
    return False


class Reused:
    """One function's kept results, and whether they may be handed back yet (see the module's docstring)."""

    def __init__(self, function: Callable[..., Any], same: Callable[[Any, Any], bool]) -> None:
        self.function = function
        self.same = same
        self.kept: dict[Hashable, Any] = {}
        self.repeats = 0
        self.broken = False

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(args, kwargs)

        self.wrapper = wrapper

    @property
    def trusted(self) -> bool:
        return not self.broken and self.repeats >= REPEATS_TO_TRUST

    def call(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """The function's result for these arguments: the kept one once trusted, computed otherwise (and
        then kept, or compared with the kept one)."""
        key = None if self.broken else call_key(args, kwargs)
        if key is None:
            return self.function(*args, **kwargs)
        kept = self.kept.get(key, _MISSING)
        if kept is not _MISSING and self.trusted:
            return kept
        try:
            value = self.function(*args, **kwargs)
        except BaseException:
            if kept is not _MISSING:  # it returned for these very arguments before
                self._break()
            raise
        if kept is _MISSING:
            if len(self.kept) >= MOST_KEPT:
                del self.kept[next(iter(self.kept))]
            self.kept[key] = value
            return value
        try:
            repeated = self.same(kept, value)
        except BaseException:
            repeated = False
        if repeated:
            self.repeats += 1
        else:
            self._break()
        return value

    def _break(self) -> None:
        self.broken = True
        self.kept.clear()


def reuse(namespace: dict[str, Any], names: Any, reused: dict[str, Reused],
          same: Callable[[Any, Any], bool]) -> dict[str, Any]:
    """Put in namespace, for one call, a reusing wrapper over each function names name; returns the
    functions to put back afterwards with restore. reused holds each name's kept results from one call to
    the next, and starts afresh for a name whose function is no longer the one it kept results of."""
    saved = {}
    for name in names or ():
        function = namespace.get(name)
        if not callable(function):
            continue
        entry = reused.get(name)
        if entry is None or entry.function is not function:
            try:
                entry = reused[name] = Reused(function, same)
            except Exception:  # a callable whose attributes cannot be copied: called as it is
                continue
        saved[name] = function
        namespace[name] = entry.wrapper
    return saved


def restore(namespace: dict[str, Any], saved: dict[str, Any], reused: dict[str, Reused]) -> None:
    """Put back the functions reuse replaced, where the wrapper is still there: a name the call itself
    defined again keeps the new definition, as it would have without the wrapper."""
    for name, function in saved.items():
        if namespace.get(name) is reused[name].wrapper:
            namespace[name] = function
