"""What runs inside the sandbox's child process: load a submission, call its functions, send arrays back.

Started as `python -I -m grader.child` with the job on standard input. Answers travel as wire frames on
a private descriptor; everything the submission prints goes to stdout and stderr, which the grader
only captures. Nothing here decides a grade.
"""
from __future__ import annotations

import builtins
import copy
import os
import sys
import traceback
from typing import Any

import numpy as np

from grader import wire


def _where(error: BaseException, filename: str) -> str:
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    return f" (line {lines[-1]})" if lines else ""


def describe(error: BaseException, filename: str) -> str:
    """A one-line account of an exception raised by student code."""
    if isinstance(error, SystemExit):
        return f"the submission called exit({error.code!r}){_where(error, filename)}"
    try:
        text = str(error)
    except BaseException:
        text = "<unprintable>"
    return f"{type(error).__name__}: {text[:300]}{_where(error, filename)}"


def same(before: Any, after: Any) -> bool:
    """Whether an argument is unchanged after a call (arrays compared by value, NaN equal to NaN)."""
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and before.shape == after.shape
                and bool(np.array_equal(before, after, equal_nan=True)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(same(before[key], after[key]) for key in before))
    if isinstance(before, (list, tuple)):
        return (type(after) is type(before) and len(before) == len(after)
                and all(same(x, y) for x, y in zip(before, after)))
    return before == after


def encode_safely(message: dict[str, Any]) -> bytes:
    try:
        return wire.encode(message)
    except BaseException as error:
        reason = f"the returned value could not be sent: {type(error).__name__}"
        return wire.encode({**message, "value": None, "status": "error", "message": reason})


REF_MARKER = "__gradgrade_ref__"


class UnresolvedRef(Exception):
    """An argument refers to an earlier call that returned nothing usable."""


def resolve(value: Any, returned: dict[int, Any]) -> Any:
    """Replace the grader's reference markers with the values earlier calls returned."""
    if isinstance(value, dict):
        if set(value) == {REF_MARKER}:
            call, item = value[REF_MARKER]
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


def run_job(job: dict[str, Any], send) -> None:
    """Execute the submission's source, then every call in order, sending one frame per step."""
    filename = job["filename"]
    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins, "__file__": filename}
    load_error = None
    try:
        exec(compile(job["source"], filename, "exec"), namespace)
    except BaseException as error:
        load_error = describe(error, filename)
    defined = sorted(name for name, value in namespace.items() if callable(value) and not name.startswith("__"))
    send({"kind": "loaded", "defined": defined, "error": load_error})
    returned: dict[int, Any] = {}
    for index, call in enumerate(job["calls"]):
        function = namespace.get(call["function"])
        if not callable(function):
            send({"kind": "result", "index": index, "status": "missing", "message": "", "value": None,
                  "mutated": []})
            continue
        try:
            args, kwargs = resolve(call["args"], returned), resolve(call["kwargs"], returned)
            given_args, given_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
        except BaseException as error:
            send({"kind": "result", "index": index, "status": "error", "value": None, "mutated": [],
                  "message": str(error) if isinstance(error, UnresolvedRef) else describe(error, filename)})
            continue
        try:
            value = function(*given_args, **given_kwargs)
            status, message = "ok", ""
            returned[index] = value
        except BaseException as error:
            value, status, message = None, "error", describe(error, filename)
        mutated = [position for position, (before, after) in enumerate(zip(args, given_args))
                   if not same(before, after)]
        mutated += [name for name in kwargs if not same(kwargs[name], given_kwargs[name])]
        send({"kind": "result", "index": index, "status": status, "message": message, "value": value,
              "mutated": [str(item) for item in mutated]})
    send({"kind": "done"})


def main() -> None:
    job = wire.decode(sys.stdin.buffer.read())
    nonce = bytes.fromhex(job["nonce"])
    channel = os.fdopen(job["result_fd"], "wb", buffering=0)

    def send(message: dict[str, Any]) -> None:
        channel.write(wire.frame(encode_safely(message), nonce))

    sys.stdin = open(os.devnull)
    sys.path[:] = [job["helpers"]] + [path for path in sys.path if path and path != os.getcwd()]
    run_job(job, send)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
