"""The audit hook: no processes, network or C libraries, no writes outside scratch, no reads of the grader."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

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
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Refused(PermissionError):
    """Something the sandbox does not allow; a PermissionError so code that expects I/O errors sees one."""


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
