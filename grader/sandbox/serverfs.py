"""The file system the fork server prepares once for its children: a read-only view, and a folder for a private tmpfs each."""
from __future__ import annotations

import ctypes
import os
import shutil
import sys
from dataclasses import dataclass

from grader.sandbox import scratch
from grader.sandbox.processes import CLONE_NEWNS


@dataclass(frozen=True)
class PreparedFileSystem:
    """What a server set up for its children's file systems.

    scratch: the folder every child mounts a tmpfs of its own on, as its scratch folder (None where a
    child cannot: the grader then makes a folder per run). view: what the server's own read-only view
    of the file system achieved, which its children inherit (None when it has none: each child makes
    its own). parent: the folder above scratch, opened before the view was made read-only, to remove
    scratch from. held: scratch as the server holds it while it lives (see grader.scratch), so that a
    server killed outright leaves it to the next sweep.
    """

    scratch: str | None = None
    view: str | None = None
    parent: int | None = None
    held: scratch.Held | None = None

    def remove_scratch(self) -> None:
        if self.scratch and self.parent is not None:
            try:
                os.rmdir(os.path.basename(self.scratch), dir_fd=self.parent)
            except OSError:
                pass
        elif self.scratch:
            remove_folder(self.scratch)
        if self.held is not None:
            self.held.release()


def prepare_file_system() -> PreparedFileSystem:
    """A scratch folder for private tmpfs mounts, if this server's children can make them, and then this
    server's own file system made read-only (the reference hidden), for its children to inherit.

    A tmpfs per child is seen by no other process and goes away with the child: the grader makes and
    removes no folder per run, nothing a submission writes reaches the disk, and it is bounded in size.
    Making the view read-only once here leaves each child only its tmpfs to mount.
    """
    if not sys.platform.startswith("linux"):
        return PreparedFileSystem()
    from grader.sandbox import containment  # imported by the server's _preload already, after it left the network

    held = scratch.make(f"{scratch.SERVER_PREFIX}{os.getpid()}-")
    folder = held.path
    pid = os.fork()
    if pid == 0:  # try it once, in a process of its own, down to writing a file there
        try:
            containment.read_only_filesystem(folder, private_bytes=1 << 20)
            # A user namespace without id maps mounts the tmpfs, but files cannot be made in it (EOVERFLOW).
            written = os.open(os.path.join(folder, "probe"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os._exit(0 if os.write(written, b"x") == 1 else 1)
        finally:
            os._exit(1)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        held.remove()
        return PreparedFileSystem()
    parent = os.open(os.path.dirname(folder), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    before = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return PreparedFileSystem(folder, containment.read_only_view(), parent, held)
    except OSError:
        # Back to the namespace it started in (a half-made view must not reach the children), which
        # must work, or no server at all.
        if ctypes.CDLL(None).setns(before, CLONE_NEWNS) != 0:
            os._exit(70)
        os.close(parent)
        return PreparedFileSystem(folder, held=held)
    finally:
        os.close(before)


def remove_folder(folder: str | None) -> bool:
    """Remove a run's scratch folder (the grader names them gradgrade-*); whether it is gone."""
    if folder and os.path.basename(folder).startswith("gradgrade-"):
        shutil.rmtree(folder, ignore_errors=True)
        return not os.path.exists(folder)
    return True
