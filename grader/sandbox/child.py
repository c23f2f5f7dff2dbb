"""What runs inside the sandbox's child process: contain it, load a submission, call its functions, send arrays back.

A child is forked by grader.forkserver (or started as `python -I -m grader.child` would be where there is no
fork server), gets the job on standard input, locks itself in (`contain`), and only then runs student code.
Answers travel as wire frames on a private descriptor; everything the submission prints goes to stdout
and stderr, which the grader only captures. Nothing here decides a grade.
"""
from __future__ import annotations

import __future__
import ast
import builtins
import copy
import ctypes
import errno
import functools
import inspect
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader.sandbox import reuse, wire

# Bound now, before student code can patch numpy, so the in-place check cannot be switched off.
_array_equal = np.array_equal
_ndarray = np.ndarray

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
RESULT_FD = 3
PRIVATE_SCRATCH_FILES = 4  # a private scratch folder holds as much as this many files of the size limit
PACKAGE = Path(__file__).resolve().parents[1]
HELPERS = str(PACKAGE / "course")  # the course's helper modules: importable and readable by a submission
FORBIDDEN_MODULES = ("grader", "reference", "mutants", "_posixsubprocess")
REFUSED_EVENTS = {
    "os.fork": "starting a process", "os.forkpty": "starting a process", "os.posix_spawn": "starting a process",
    "os.spawn": "starting a program", "os.exec": "starting a program", "os.system": "running a shell command",
    "subprocess.Popen": "starting a program", "os.startfile": "starting a program", "pty.spawn": "starting a program",
    "ctypes.dlopen": "loading a C library", "ctypes.dlsym": "looking up a C function",
    "ctypes.dlsym/handle": "looking up a C function",
    "resource.setrlimit": "changing resource limits", "resource.prlimit": "changing resource limits",
    "gc.get_objects": "walking the grader's objects", "gc.get_referrers": "walking the grader's objects",
    "gc.get_referents": "walking the grader's objects", "webbrowser.open": "opening a browser",
}
PATH_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink",
               "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.lchmod", "os.lchown", "shutil.rmtree",
               "shutil.move", "shutil.copyfile", "shutil.copytree", "os.removexattr", "os.setxattr", "os.mkfifo",
               "os.mknod")
WATCHED_EVENTS = frozenset(REFUSED_EVENTS) | frozenset(PATH_EVENTS) | {
    "import", "open", "os.kill", "os.killpg", "signal.pthread_kill", "os.listdir", "os.scandir", "glob.glob",
    "os.chdir"}
MESSAGE_LIMIT = 300  # characters of an exception's text in a message (clipped with a note of the whole)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Refused(PermissionError):
    """Something the sandbox does not allow; a PermissionError so code that expects I/O errors sees one."""


def _where(error: BaseException, filename: str) -> str:
    # walk_tb reads no source files: linecache would try to open files the audit hook refuses.
    lines = [line for frame, line in traceback.walk_tb(error.__traceback__) if frame.f_code.co_filename == filename]
    return f" (line {lines[-1]})" if lines else ""


# Set once the process-count limit is 0: a fork the kernel then refuses is the sandbox's doing, not a busy system.
_processes_refused = False


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
    if _processes_refused and isinstance(error, BlockingIOError) and error.errno == errno.EAGAIN:
        # The kernel refuses the fork (EAGAIN) of a process started without an audit event, such as a fresh
        # copy of a built-in _posixsubprocess: say what it was, not "Resource temporarily unavailable".
        return (f"PermissionError: gradgrade sandbox: starting a process is not allowed (the process limit refused it)"
                f"{_where(error, filename)}")
    kind = "PermissionError" if isinstance(error, Refused) else type(error).__name__
    return f"{kind}: {wire.clip(text, MESSAGE_LIMIT)}{_where(error, filename)}"


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


def encode_safely(message: dict[str, Any]) -> bytes:
    try:
        return wire.encode(message)
    except BaseException as error:
        reason = f"the returned value could not be sent: {type(error).__name__}"
        return wire.encode({**message, "value": None, "status": "error", "message": reason})


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


# --- containment: every layer is set up before the first line of student code runs ---------------------

def set_limits(limits: dict[str, Any], *, processes: bool) -> list[str]:
    """rlimits: address space, file size, CPU seconds (a backstop to the grader's clock), open files, cores.

    Returns the ones in force: a platform may refuse one (macOS does not enforce RLIMIT_AS).
    """
    import resource

    wanted = [("address space", resource.RLIMIT_AS, int(limits["memory_bytes"])),
              ("file size", resource.RLIMIT_FSIZE, int(limits["file_bytes"])),
              ("CPU", resource.RLIMIT_CPU, int(limits["cpu_seconds"])),
              ("open files", resource.RLIMIT_NOFILE, 256),
              ("core files", resource.RLIMIT_CORE, 0)]
    if not processes:
        # Counts every process of the user, so 0 forbids any new one (root is exempt: the audit hook stays).
        wanted.append(("processes", resource.RLIMIT_NPROC, 0))
    applied = []
    for name, kind, value in wanted:
        try:
            soft, hard = resource.getrlimit(kind)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(kind, (value, value))
            applied.append(name)
        except (ValueError, OSError):
            continue
    global _processes_refused
    _processes_refused = "processes" in applied
    # A write over the size limit raises OSError (EFBIG) in the submission instead of killing the child.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return applied


def leave_network() -> str:
    """Move into an empty network namespace (only a down loopback); returns how, or why not."""
    if not sys.platform.startswith("linux"):
        return "no network namespace on this platform"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) == 0:
            return "network namespace"
        # Without root, a user namespace grants the right to make a network namespace.
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
            return "user and network namespace"
        return f"no network namespace: {os.strerror(ctypes.get_errno())}"
    except (OSError, AttributeError) as error:
        return f"no network namespace: {error}"


READ_ONLY = "read-only outside the scratch folder"
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
CLONE_NEWNS = 0x00020000


class NoPrivateScratch(Exception):
    """The child could not mount the private scratch folder it was promised: it must not run."""


def read_only_filesystem(scratch: str, *, private_bytes: int | None = None, prepared: str | None = None) -> str:
    """In a mount namespace of its own, make every mount read-only except the scratch folder.

    The kernel then refuses writes outside scratch even to code that gets past the audit hook. Needs
    the right to make a mount namespace (root, or the user namespace leave_network made); returns how
    far it got. With private_bytes, scratch is a folder every child of a fork server shares, and gets
    a tmpfs of that size of its own, seen by no other process, gone with the child; without one it
    does not run (NoPrivateScratch). prepared: what read_only_view said when the fork server made its
    own namespace read-only already, which this process inherited: then only the tmpfs is left to do.
    """
    if not sys.platform.startswith("linux"):
        return "no mount namespace on this platform"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        folder = os.path.realpath(scratch).encode()
        if private_bytes is not None:
            made = (libc.unshare(CLONE_NEWNS) == 0
                    and (prepared is not None or libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0)
                    and libc.mount(b"gradgrade-scratch", folder, b"tmpfs", MS_NOSUID | MS_NODEV,
                                   f"size={private_bytes},nr_inodes=16384,mode=0700".encode()) == 0)
            if not made:
                raise NoPrivateScratch(f"no private scratch folder: {os.strerror(ctypes.get_errno())}")
        elif (libc.unshare(CLONE_NEWNS) != 0 or libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0
                or libc.mount(folder, folder, None, MS_BIND, None) != 0):
            return f"writable: no mount namespace ({os.strerror(ctypes.get_errno())})"
        text = prepared if prepared is not None and private_bytes is not None else _make_read_only(libc, keep=folder)
    except (OSError, AttributeError, IndexError) as error:
        if private_bytes is not None:
            raise NoPrivateScratch(f"no private scratch folder: {error}") from None
        return f"writable: no mount namespace ({error})"
    if private_bytes is None:
        return text
    return text.replace(READ_ONLY, f"{READ_ONLY} (a tmpfs of its own, {private_bytes // 1024 ** 2} MiB)", 1)


def read_only_view() -> str:
    """Make this process's own mount namespace read-only, the grader's folders hidden: a fork server does it
    once, and each child it forks inherits the view and adds only its private scratch tmpfs. Returns what
    it achieved, as read_only_filesystem says it; raises OSError when there is no namespace to make."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return _make_read_only(libc, keep=None)


def _make_read_only(libc: ctypes.CDLL, *, keep: bytes | None) -> str:
    """Remount every mount of this (new) namespace read-only but keep; cover the reference and the mutants."""
    table = [line.split() for line in _read_all(b"/proc/self/mountinfo")]
    mounts = [(fields[4], fields[5].split(b",")) for fields in table]
    failed = []
    for point, options in mounts:
        if point == keep:
            continue
        # A remount must keep the flags the mount already has, or the kernel may refuse it.
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        flags |= sum(bit for name, bit in ((b"nosuid", MS_NOSUID), (b"nodev", MS_NODEV), (b"noexec", MS_NOEXEC))
                     if name in options)
        if libc.mount(None, point, None, flags, None) != 0:
            failed.append(os.fsdecode(point))
    # The reference and the mutant catalogue disappear under an empty read-only tmpfs.
    hidden = [folder for folder in grader_folders() if folder != str(PACKAGE) and os.path.isdir(folder)
              and libc.mount(b"none", folder.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, None) == 0]
    text = READ_ONLY
    if failed:
        text += f", except {wire.clip(', '.join(sorted(set(failed))), 200)}"
    return text + (f"; hidden: {', '.join(hidden)}" if hidden else "")


def _read_all(path: bytes) -> list[bytes]:
    """A small file's lines, read without Python's text layer (a forked child pays for each page it touches)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).splitlines()


def _as_path(value: Any) -> str | None:
    if isinstance(value, (str, bytes, os.PathLike)):
        path = os.fsdecode(value)
        return os.path.realpath(os.path.join(os.getcwd(), path))
    return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@functools.lru_cache(maxsize=None)
def python_folders() -> tuple[str, ...]:
    """Where Python and its packages live: readable (a fork server computes this once for all children)."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
               os.path.dirname(os.path.dirname(np.__file__))}
    return tuple(sorted(os.path.realpath(folder) for folder in folders))


@functools.lru_cache(maxsize=None)
def python_path() -> tuple[str, ...]:
    """sys.path without the current folder and without gradgrade's project folder (computed once)."""
    project = str(PACKAGE.parent)
    return tuple(path for path in sys.path if path and os.path.realpath(path) != os.getcwd()
                 and not _inside(os.path.realpath(path), project))


@functools.lru_cache(maxsize=None)
def grader_folders() -> tuple[str, ...]:
    """gradgrade's own package, the reference and the mutant catalogue: never readable by a submission."""
    import importlib.util
    folders = [str(PACKAGE), str(PACKAGE.parent / "mutants")]
    for name in ("grader.reference", "grader.mutants"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            folders += list(spec.submodule_search_locations)
    return tuple(sorted({os.path.realpath(folder) for folder in folders}))


class Guard:
    """The audit hook: refuses processes, network, C libraries, writes outside scratch, reads of the grader."""

    def __init__(self, scratch: str, helpers: str, *, processes: bool = False) -> None:
        self.scratch = os.path.realpath(scratch)
        self.helpers = os.path.realpath(helpers)
        self.processes = processes
        self.pid = os.getpid()
        self.readable = python_folders() + (self.scratch, self.helpers)
        self.forbidden = grader_folders()

    def readable_path(self, path: str) -> bool:
        if path in ("/dev/null", "/dev/urandom", "/dev/zero"):
            return True
        if _inside(path, self.helpers) or _inside(path, self.scratch):
            return True
        if any(_inside(path, folder) for folder in self.forbidden):
            return False
        return any(_inside(path, folder) for folder in self.readable)

    def writable_path(self, path: str) -> bool:
        return path == "/dev/null" or _inside(path, self.scratch)

    def __call__(self, event: str, args: tuple) -> None:
        # Most events (builtins.id, exec, compile...) are none of the hook's business: leave at once.
        # No re-entrancy flag: a flag is state student code could flip. Nothing problem() calls
        # (realpath, stat, getcwd) raises an audit event.
        if event not in WATCHED_EVENTS and not event.startswith("socket."):
            return
        problem = self.problem(event, args)
        if problem:
            raise Refused(f"gradgrade sandbox: {problem} is not allowed")

    def problem(self, event: str, args: tuple) -> str | None:
        if event in REFUSED_EVENTS and not (self.processes and event in ("os.fork", "ctypes.dlopen", "ctypes.dlsym")):
            return REFUSED_EVENTS[event]
        if event.startswith("socket."):
            return "network access"
        if event == "import" and args and isinstance(args[0], str):
            if args[0].split(".")[0] in FORBIDDEN_MODULES:
                return f"importing {args[0]}"
            return None
        if event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            target = args[0] if args else None
            if event == "os.kill" and target == self.pid:
                return None
            if event == "os.killpg" and target == self.pid:
                return None
            return "signalling another process"
        if event == "open":
            return self._open_problem(args)
        if event in ("os.listdir", "os.scandir", "glob.glob", "os.chdir"):
            path = _as_path(args[0]) if args and args[0] is not None else os.getcwd()
            if path is not None and not self.readable_path(path):
                return f"looking into {path}"
            return None
        if event in PATH_EVENTS:
            for path in filter(None, (_as_path(arg) for arg in args[:2])):
                if not self.writable_path(path):
                    return f"changing {path} (outside the scratch folder)"
        return None

    def _open_problem(self, args: tuple) -> str | None:
        target, mode, flags = (tuple(args) + (None, None, None))[:3]
        path = _as_path(target)
        if path is None:
            return None  # an already-open descriptor
        writing = bool(isinstance(flags, int) and flags & WRITE_FLAGS) or any(c in str(mode or "") for c in "wax+")
        if writing:
            return None if self.writable_path(path) else f"writing {path} (outside the scratch folder)"
        if os.path.isdir(path) and not _inside(path, self.scratch):
            return f"opening the folder {path}"
        return None if self.readable_path(path) else f"reading {path}"


def _refuse_fork_exec(*args: Any, **kwargs: Any) -> None:
    raise Refused("gradgrade sandbox: starting a program is not allowed")


_scrubbed_size: int | None = None  # how many modules sys.modules held right after the last scrub


def scrub_modules() -> None:
    """Forget the grader's own modules, so student code finds neither them nor the fork server's main.

    A fork server scrubs once for all its children, and a child scans again only if a module was imported
    since: listing sys.modules costs a forked child a copied page for nearly every module name it touches.
    """
    global _scrubbed_size
    if _scrubbed_size == len(sys.modules):
        return
    for name in list(sys.modules):
        if name.split(".")[0] in FORBIDDEN_MODULES:
            del sys.modules[name]
    main = type(sys)("__main__")
    sys.modules["__main__"] = main
    # subprocess's C half starts programs without an audit event of its own.
    try:
        import _posixsubprocess
        _posixsubprocess.fork_exec = _refuse_fork_exec
    except ImportError:
        pass
    _scrubbed_size = len(sys.modules)


def contain(job: dict[str, Any]) -> dict[str, str]:
    """Lock this process in before student code runs; returns what each layer achieved."""
    layers = {}
    scratch, limits = job["scratch"], job["limits"]
    processes = bool(limits["processes"])
    if os.name == "posix":
        layers["process group"] = ("own session" if os.getsid(0) == os.getpid()
                                   else "own group" if os.getpgid(0) == os.getpid()
                                   else "in its stand-in's session" if os.getpid() == 1 else "shared with the grader")
        if job.get("pid_namespace"):
            layers["processes"] = job["pid_namespace"]
    os.chdir(scratch)
    os.environ.update({"HOME": scratch, "TMPDIR": scratch, "TMP": scratch, "TEMP": scratch})
    if os.name == "posix":
        layers["rlimits"] = ", ".join(set_limits(limits, processes=processes)) or "none"
        # A fork server has already left the network for all its children; a spawned child leaves alone.
        layers["network"] = job.get("network") or leave_network()
        private = limits["file_bytes"] * PRIVATE_SCRATCH_FILES if job.get("private_scratch") else None
        layers["file system"] = read_only_filesystem(scratch, private_bytes=private, prepared=job.get("file_system"))
        os.chdir(scratch)  # again: the old working directory is the folder under the new mount
    sys.dont_write_bytecode = True
    sys.path[:] = [HELPERS] + [path for path in python_path() if path != os.path.realpath(scratch)]
    scrub_modules()
    sys.addaudithook(Guard(scratch, HELPERS, processes=processes))
    layers["audit hook"] = "installed"
    return layers


# --- the run itself ------------------------------------------------------------------------------------

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


def run_job(job: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    """Execute the submission's source, then every call in order, sending one frame per step."""
    filename = job["filename"]
    memory = job["limits"]["memory_bytes"]
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
