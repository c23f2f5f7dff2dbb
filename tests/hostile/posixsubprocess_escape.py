# tries: start a shell through subprocess's C half (it raises no audit event of its own) in a session of its
# own, writing a file outside the sandbox and sleeping; if that fork_exec is patched, a fresh copy of the module.
# expect: error: is not allowed
import os


def _start(fork_exec):
    read, write = os.pipe()
    return fork_exec([b"/bin/sh", b"-c", b"echo escaped > /tmp/gradgrade-hostile-posix; sleep 3600"], [b"/bin/sh"],
                     True, (write,), None, None, -1, -1, -1, -1, -1, -1, read, write, True, True, -1, None, None,
                     None, -1, None, False)


def backward_propagation_n(X, Y, cache):
    import importlib.util
    import sys

    import _posixsubprocess
    try:
        pid = _start(_posixsubprocess.fork_exec)
    except PermissionError:
        fresh = importlib.util.module_from_spec(sys.modules["_posixsubprocess"].__spec__)
        pid = _start(fresh.fork_exec)
    return {"pid": pid}
