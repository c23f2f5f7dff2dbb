"""The file system a fork server prepares: a private scratch folder wherever a child can mount one."""
from __future__ import annotations

import subprocess
import sys

import pytest


# In a fresh interpreter (preparing makes that process's file system read-only): where a forked child can mount
# a tmpfs and write in it, the server's own probe must find the same, or its children silently lose their private tmpfs.
PROBE = (
    "import os, sys\n"
    "from grader.sandbox import containment, scratch, serverfs\n"
    "held = scratch.make('gradgrade-probe-')\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        containment.read_only_filesystem(held.path, private_bytes=1 << 20)\n"
    "        written = os.open(os.path.join(held.path, 'probe'), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)\n"
    "        os._exit(0 if os.write(written, b'x') == 1 else 1)\n"
    "    finally:\n"
    "        os._exit(1)\n"
    "mounts = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0\n"
    "held.remove()\n"
    "if not mounts:\n"
    "    print('no mount namespace')\n"
    "    sys.exit(0)\n"
    "prepared = serverfs.prepare_file_system()\n"
    "print('private scratch' if prepared.scratch else 'none')\n"
    "prepared.remove_scratch()\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount namespaces are Linux's")
def test_a_fork_server_prepares_a_private_scratch_wherever_a_child_can_mount_one():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if done.stdout.strip() == "no mount namespace":
        pytest.skip("no mount namespace here")
    assert done.stdout.strip() == "private scratch", done.stderr
