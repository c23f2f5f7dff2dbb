"""What runs inside the sandbox's child process: contain it, load a submission, call its functions, send arrays back.

A child is forked by grader.forkserver (or started as `python -I -m grader.child` would be where there is no
fork server), gets the job on standard input, locks itself in (containment.contain), and only then runs student code.
Answers travel as wire frames on a private descriptor; everything the submission prints goes to stdout
and stderr, which the grader only captures. Nothing here decides a grade.
"""
from __future__ import annotations

import __future__
import ast
import builtins
import errno
import os
import sys
import traceback
from typing import Any, Callable

from grader.sandbox import containment, reuse, wire
from grader.sandbox.calls import (UnresolvedRef, bind_sources, fit_arguments, fresh_copy, resolve, same, unbind,
                                  waits_in_vain)
from grader.sandbox.containment import NoPrivateScratch, contain
from grader.sandbox.guard import Refused

RESULT_FD = 3
MESSAGE_LIMIT = 300  # characters of an exception's text in a message (clipped with a note of the whole)


def _where(error: BaseException, filename: str) -> str:
    # walk_tb reads no source files: linecache would try to open files the audit hook refuses.
    lines = [line for frame, line in traceback.walk_tb(error.__traceback__) if frame.f_code.co_filename == filename]
    return f" (line {lines[-1]})" if lines else ""


def describe(error: BaseException, filename: str, *, memory_bytes: int | None = None) -> str:
    """A one-line account of an exception raised by student code."""
    if isinstance(error, SystemExit):
        return f"the submission called exit({error.code!r}){_where(error, filename)}"
    try:
        text = str(error)
    except BaseException:
        text = "<unprintable>"
    if isinstance(error, MemoryError):
        limit = f" (the limit is {memory_bytes // 1024 ** 2} MiB)" if memory_bytes else ""
        return f"MemoryError: the submission ran out of memory{limit}{': ' + wire.clip(text, 200) if text else ''}{_where(error, filename)}"
    if containment.processes_refused and isinstance(error, BlockingIOError) and error.errno == errno.EAGAIN:
        # The kernel refuses the fork (EAGAIN) of a process started without an audit event, such as a fresh
        # copy of a built-in _posixsubprocess: say what it was, not "Resource temporarily unavailable".
        return (f"PermissionError: gradgrade sandbox: starting a process is not allowed (the process limit refused it)"
                f"{_where(error, filename)}")
    kind = "PermissionError" if isinstance(error, Refused) else type(error).__name__
    return f"{kind}: {wire.clip(text, MESSAGE_LIMIT)}{_where(error, filename)}"


def encode_safely(message: dict[str, Any]) -> bytes:
    try:
        return wire.encode(message)
    except BaseException as error:
        reason = f"the returned value could not be sent: {type(error).__name__}"
        return wire.encode({**message, "value": None, "status": "error", "message": reason})


def inject_helpers(namespace: dict[str, Any], inject: dict[str, str]) -> dict[str, Any]:
    """Put course helpers ({name: "module:attribute"}, modules from the helpers folder) in the namespace.

    They go in before the submission's code runs, so a function the student defines replaces them; a
    helper that cannot be imported is left out (the student's code then fails as it would in class).
    """
    injected = {}
    for name, spec in inject.items():
        module_name, _, attribute = str(spec).partition(":")
        try:
            module = __import__(module_name, fromlist=["_"])
            injected[name] = getattr(module, attribute or name)
        except BaseException:
            continue
    namespace.update(injected)
    return injected


def load(source: str, filename: str, namespace: dict[str, Any], *, memory_bytes: int | None,
         failures: list[tuple[int, str]] | None = None) -> str | None:
    """Run the submission's top-level statements; what went wrong, in one line, or None.

    Like a notebook whose failing cell does not stop the next, a statement that raises (an import of a
    package gradgrade does not have) is reported and the statements after it still run; exit() stops
    loading. The whole source runs as one code object, and only after a failure one by one (compiling
    statement by statement costs several times more). failures, when given, receives (first line of the
    statement, what went wrong) for each statement that failed: a def whose default names an undefined
    constant is the reason its function is missing.
    """
    errors: list[tuple[int, str]] = []
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        # Code that parses but does not compile as one module runs one statement at a time, as the
        # notebook's cells did: a `from __future__` import that starts a later cell applies from there on,
        # and a stray `return` fails alone.
        try:
            tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except BaseException:
            return describe(error, filename, memory_bytes=memory_bytes)
        errors = _run_statements(tree, filename, namespace, after=0, memory_bytes=memory_bytes)
        failures is not None and failures.extend(errors)
        return _summary([message for _, message in errors])
    except BaseException as error:
        return describe(error, filename, memory_bytes=memory_bytes)
    try:
        exec(code, namespace)
        return None
    except BaseException as error:
        message = describe(error, filename, memory_bytes=memory_bytes)
        failed_at = next((frame.f_lineno for frame, _ in traceback.walk_tb(error.__traceback__)
                          if frame.f_code.co_filename == filename and frame.f_code.co_name == "<module>"), None)
        stopped = isinstance(error, SystemExit)
    if failed_at is None:
        return message
    tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    statement = next((node for node in tree.body if node.lineno <= failed_at <= (node.end_lineno or node.lineno)), None)
    errors = [(statement.lineno if statement else failed_at, message)]
    if not stopped:
        errors += _run_statements(tree, filename, namespace, after=failed_at, memory_bytes=memory_bytes)
    failures is not None and failures.extend(errors)
    return _summary([message for _, message in errors])


def _run_statements(tree: ast.Module, filename: str, namespace: dict[str, Any], *, after: int,
                    memory_bytes: int | None) -> list[tuple[int, str]]:
    """Run the top-level statements that start after line `after`, each with the `from __future__`
    features imported above it; (first line, what went wrong) for each that failed. exit() stops the run."""
    errors = []
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                if alias.name in __future__.all_feature_names:
                    flags |= getattr(__future__, alias.name).compiler_flag
        if statement.lineno <= after:
            continue  # ran before the failure, or is the statement that failed
        try:
            exec(compile(ast.Module(body=[statement], type_ignores=[]), filename, "exec", flags, dont_inherit=True),
                 namespace)
        except SystemExit as error:
            errors.append((statement.lineno, describe(error, filename)))
            break
        except BaseException as error:
            errors.append((statement.lineno, describe(error, filename, memory_bytes=memory_bytes)))
    return errors


def _summary(errors: list[str]) -> str | None:
    """The first error, and how many more statements failed; None when none did."""
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more statement(s) failed)" if len(errors) > 1 else ""
    return errors[0] + more


def bound_method(cls: Any, method: str, init: dict[str, Any], attributes: dict[str, Any]) -> Callable:
    """cls(**init) with attributes set on it, and its method: how a notebook makes a model and calls it."""
    model = cls(**init)
    for name, value in attributes.items():
        setattr(model, name, value)
    return getattr(model, method)


def install_modules(modules: dict[str, str]) -> None:
    """Make each module ({name: source}, an assignment's helpers) importable, as a file beside the submission
    would be. One whose source fails is left out: the student's import then fails as it would in class."""
    import types

    for name, source in modules.items():
        module = types.ModuleType(name)
        module.__file__ = f"{name.replace('.', '/')}.py"
        try:
            sys.modules[name] = module
            exec(compile(source, module.__file__, "exec", dont_inherit=True), module.__dict__)
        except BaseException:
            sys.modules.pop(name, None)


def run_job(job: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    """Execute the submission's source, then every call in order, sending one frame per step."""
    filename = job["filename"]
    memory = job["limits"]["memory_bytes"]
    install_modules(job.get("modules") or {})
    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins, "__file__": filename}
    injected = inject_helpers(namespace, job["inject"])
    failures: list[tuple[int, str]] = []
    load_error = load(job["source"], filename, namespace, memory_bytes=memory, failures=failures)
    defined = sorted(name for name, value in namespace.items()
                     if isinstance(name, str) and callable(value) and not name.startswith("__")
                     and injected.get(name) is not value)
    send({"kind": "loaded", "defined": defined, "error": load_error, "isolation": job["isolation"],
          "failures": [[line, message] for line, message in failures]})
    returned: dict[int, Any] = {}
    reused: dict[str, reuse.Reused] = {}
    for index, call in enumerate(job["calls"]):
        function = namespace.get(call["function"])
        if not callable(function) or (call.get("own_only") and injected.get(call["function"]) is function):
            send({"kind": "result", "index": index, "status": "missing", "message": "", "value": None,
                  "mutated": []})
            continue
        waiting = waits_in_vain(call.get("only_if_below"), index, returned)
        if waiting:
            send({"kind": "result", "index": index, "status": "not run", "message": waiting, "value": None,
                  "mutated": []})
            continue
        try:
            # Decoded already when a fork server holds the calls; in the job's wire format otherwise.
            arguments = call.get("arguments") or wire.decode(call["payload"].tobytes())
            args, kwargs = arguments["args"], arguments["kwargs"]
            if call.get("refs", True):
                args, kwargs = resolve(args, returned), resolve(kwargs, returned)
            given_args, given_kwargs = fresh_copy(args, {}), fresh_copy(kwargs, {})
            if call.get("method"):
                function = bound_method(function, call["method"], fresh_copy(arguments["init"], {}),
                                        fresh_copy(arguments["attributes"], {}))
            given_args, given_kwargs, left_out = fit_arguments(function, given_args, given_kwargs,
                                                               call.get("optional") or [])
        except BaseException as error:
            send({"kind": "result", "index": index, "status": "error", "value": None, "mutated": [],
                  "message": str(error) if isinstance(error, UnresolvedRef) else describe(error, filename)})
            continue
        saved = bind_sources(namespace, call["bind"])
        reusing = reuse.reuse(namespace, call.get("reuse"), reused, same)
        try:
            value = function(*given_args, **given_kwargs)
            status, message = "ok", ""
            returned[index] = value
        except BaseException as error:
            value, status, message = None, "error", describe(error, filename, memory_bytes=memory)
        reuse.restore(namespace, reusing, reused)
        unbind(namespace, saved)
        try:
            mutated = [position for position, (before, after) in enumerate(zip(args, given_args))
                       if not same(before, after)]
            mutated += [name for name in kwargs if not same(kwargs[name], given_kwargs[name])]
        except BaseException:
            mutated = ["an argument"]
        if call.get("first_only") and type(value) in (tuple, list) and value:
            value = type(value)(value[:1])
        send({"kind": "result", "index": index, "status": status, "message": message, "value": value,
              "mutated": [str(item) for item in mutated], "omitted": left_out})
    _flush()  # output goes out before "done": the grader stops reading once it has that frame
    send({"kind": "done"})


def _flush() -> None:
    """Flush stdout and stderr, whatever the submission did to them."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def read_job(fd: int = 0) -> Any:
    """The wire value a descriptor holds, read to its end: a job on stdin, a fork server's plan."""
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    return wire.decode(b"".join(chunks))


def serve(job: dict[str, Any], channel_fd: int) -> None:
    """Contain this process, run the job, and leave without running any cleanup student code could hook."""
    nonce = bytes.fromhex(job.pop("nonce"))
    write = os.write

    def send(message: dict[str, Any]) -> None:
        data = wire.frame(encode_safely(message), nonce)
        while data:
            data = data[write(channel_fd, data):]

    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    sys.stdin = open(0, closefd=False)
    try:
        job["isolation"] = contain(job)
    except NoPrivateScratch as error:  # student code must not run in a folder other children share
        os.write(2, f"gradgrade sandbox: {error}\n".encode())
        os._exit(71)
    try:
        run_job(job, send)
    finally:
        _flush()
        for fd in (1, 2):  # the grader wakes at the end of the output, and reads the results then
            try:
                os.close(fd)
            except OSError:
                pass
        os._exit(0)


def main() -> None:
    """`python -I -m grader.child`: the job on stdin; results on the descriptor its result_fd names."""
    job = read_job(0)
    serve(job, int(job["result_fd"]))


if __name__ == "__main__":
    main()
