"""Lock a child in before student code runs: rlimits, network and mount namespaces, the audit hook."""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

from grader.sandbox import wire
from grader.sandbox.guard import FORBIDDEN_MODULES, HELPERS, PACKAGE, Guard, Refused, grader_folders, python_path

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
PRIVATE_SCRATCH_FILES = 4  # a private scratch folder holds as much as this many files of the size limit


# Set once the process-count limit is 0: a fork the kernel then refuses is the sandbox's doing, not a busy system.
processes_refused = False


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
    global processes_refused
    processes_refused = "processes" in applied
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
