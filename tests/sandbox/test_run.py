"""The sandbox: hostile submissions get a non-pass result with a clear message and leave nothing behind."""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from grader import cli
from grader.sandbox import child, containment, forkclient, forkserver, guard, output, processes, wire
from grader.sandbox import run as sandbox
from grader.results import Capped

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
HOSTILE_FILES = sorted(HOSTILE.glob("*.py"))
ESCAPES = [Path("/tmp/gradgrade-hostile-escape"), Path("/tmp/gradgrade-hostile-subprocess"), Path("/tmp/gradgrade-hostile-posix"),
           Path("/tmp/gradgrade-hostile-system"), Path("~root/gradgrade-hostile-escape").expanduser()]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server runs on Linux")


def escaped(path: Path) -> bool:
    """Whether a hostile submission left path behind. Run as another user than root (nobody), root's home
    cannot even be looked into; the submission ran as that user too, so it could not have written there."""
    try:
        return path.exists()
    except PermissionError:
        return False


def expectation(path: Path) -> tuple[str, str]:
    """The (check status, message substring) a hostile file's `# expect:` line promises."""
    for line in path.read_text().splitlines():
        if line.startswith("# expect:"):
            status, _, text = line[len("# expect:"):].strip().partition(":")
            return status.strip(), text.strip()
    raise AssertionError(f"{path.name} has no '# expect:' line")


def children_of(pid: int) -> list[int]:
    try:
        return [int(item) for task in Path(f"/proc/{pid}/task").iterdir()
                for item in (task / "children").read_text().split()]
    except OSError:
        return []


def server_children() -> list[int]:
    """Living processes the fork server has as children (it is their subreaper: every descendant), but for
    its one spare: process 1 of a PID namespace with no children, or its stand-in (see _is_spare)."""
    server = forkclient._server
    if server is None or forkclient._server_pid != os.getpid():
        return []
    children = [pid for pid in children_of(server.process.pid) if alive(pid)]
    spares = [pid for pid in children if _is_spare(pid)]
    return [pid for pid in children if pid not in spares[:1]]


def _is_spare(pid: int) -> bool:
    """A spare: forked into a PID namespace as its process 1 (root), or a stand-in whose only child is."""
    inner = children_of(pid)  # read once: the process may exit between two reads
    if not inner:
        return namespace_pids(pid)[-1:] == [1]
    return len(inner) == 1 and not children_of(inner[0])


def namespace_pids(pid: int) -> list[int]:
    """pid as each PID namespace it is in sees it, outermost first (the NSpid line of its status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return []
    return [int(item) for line in status.splitlines() if line.startswith("NSpid:") for item in line.split()[1:]]


def process_state(pid: int) -> str | None:
    """pid's state letter in /proc (R running, S asleep, Z zombie...), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def asleep(pid: int) -> bool:
    """Whether pid is a process waiting for something (state S)."""
    return process_state(pid) == "S"


def alive(pid: int) -> bool:
    """Whether pid is a process that is not a zombie."""
    return process_state(pid) not in (None, "Z")


def flocked(path: Path) -> bool:
    """Whether some process holds an flock on path, read from /proc/locks without taking one."""
    inode = os.stat(path).st_ino
    with open("/proc/locks") as locks:
        return any(fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode)
                   for fields in (line.split() for line in locks) if len(fields) > 5)


def settle(predicate, *, seconds: float = 5.0) -> bool:
    """predicate() once it holds, polling for a few seconds (reaping is asynchronous)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def scratch_root(tmp_path, monkeypatch):
    """Every scratch folder of the test goes under one folder, which must end up empty."""
    root = tmp_path / "scratch"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    assert list(root.iterdir()) == [], "a scratch folder or an escaped file was left behind"


def test_every_hostile_file_says_what_it_expects():
    assert len(HOSTILE_FILES) >= 20
    for path in HOSTILE_FILES:
        assert path.read_text().startswith("# tries:"), path.name
        status, text = expectation(path)
        assert status in {"timeout", "error", "fail"} and text, path.name


@pytest.mark.parametrize("path", [pytest.param(path, id=path.stem) for path in HOSTILE_FILES])
def test_hostile_submission_gets_a_clear_non_pass_from_gradgrade_check(path, scratch_root, capsys):
    status, text = expectation(path)
    timeout = "1" if status == "timeout" else "20"
    code = cli.main(["check", str(path), "--format", "json", "--timeout", timeout])
    result = json.loads(capsys.readouterr().out)
    backward = next(check for check in result["checks"] if check["name"] == "backward_propagation_n")
    assert code == 1
    assert result["status"] != "pass" and backward["status"] == status
    messages = [result.get("message", ""), backward["message"]] + [p["message"] for p in backward["parameters"].values()]
    assert any(text in message for message in messages), messages
    assert not [escape for escape in ESCAPES if escaped(escape)]
    assert settle(lambda: server_children() == []), "a submission's process outlived its run"


@linux_only
def test_timeout_kills_the_whole_process_group():
    # Forks are refused by default; processes=True lets the hostile file make sleeping children, in
    # sessions of their own, so this shows the timeout killing them all (the process group, and the PID
    # namespace for those that left it), not the audit hook preventing them.
    source = (HOSTILE / "fork_and_sleep.py").read_text()
    run = sandbox.run(source, [sandbox.Call("backward_propagation_n", (1, 2, 3))],
                      limits=sandbox.Limits(timeout=1.0, processes=True))
    pids = [int(pid) for pid in re.findall(r"child pid (\d+)", run.stdout)]
    assert run.status is sandbox.RunStatus.TIMEOUT
    assert len(pids) == 3
    assert settle(lambda: not any(alive(pid) for pid in pids)), "a forked child survived the timeout"
    assert settle(lambda: server_children() == [])


def test_a_call_takes_what_an_earlier_call_returned_and_the_others_their_own_arguments():
    source = "def make(n):\n    return [n, n * 2]\ndef twice(x):\n    return x * 2\n"
    calls = [sandbox.Call("make", (3,)), sandbox.Call("twice", (sandbox.Ref(0, 1),)),
             sandbox.Call("twice", ({"whole": sandbox.Ref(0)}["whole"],)), sandbox.Call("twice", (5,)),
             sandbox.Call("twice", (sandbox.Ref(6),))]
    run = sandbox.run(source, calls)
    assert [outcome.value for outcome in run.outcomes[:4]] == [[3, 6], 12, [3, 6, 3, 6], 10]
    assert run.outcomes[4].status is sandbox.CallStatus.ERROR
    assert "call 6, which did not return" in run.outcomes[4].message


def test_an_assignments_helper_modules_are_importable_and_a_broken_one_fails_as_in_class():
    modules = {"layer_utils": "import numpy as np\n\ndef affine_relu(x):\n    return np.maximum(2 * x, 0)\n",
               "broken_utils": "raise RuntimeError('half-written helper')\n"}
    source = ("from layer_utils import affine_relu\n"
              "def uses(x):\n    return affine_relu(x)\n"
              "def imports_broken():\n    import broken_utils\n")
    run = sandbox.run(source, [sandbox.Call("uses", (-1.5,)), sandbox.Call("uses", (2.0,)),
                               sandbox.Call("imports_broken")], modules=modules)
    assert run.load_error is None and [outcome.value for outcome in run.outcomes[:2]] == [0.0, 4.0]
    assert run.outcomes[2].status is sandbox.CallStatus.ERROR and "ModuleNotFoundError" in run.outcomes[2].message
    # A helper runs as the submission does: the sandbox's rules hold inside it too.
    hostile = sandbox.run("import sneaky\n", [], modules={"sneaky": "open('/etc/passwd').read()\n"})
    assert "sneaky" in (hostile.load_error or "") and "ModuleNotFoundError" in hostile.load_error


SLOW_IN_EVERY_CALL = "import time\ndef f(x):\n    time.sleep(0.4)\n    return x\n"


def test_a_submission_slow_in_every_call_stops_at_its_total_timeout():
    # Each call is well inside the 2 s a call may take; the twenty of them would hold the grader 8 s.
    calls = [sandbox.Call("f", (index,)) for index in range(20)]
    started = time.monotonic()
    run = sandbox.run(SLOW_IN_EVERY_CALL, calls, limits=sandbox.Limits(timeout=2.0, total_timeout=1.5))
    took = time.monotonic() - started
    statuses = [outcome.status for outcome in run.outcomes]
    finished = statuses.count(sandbox.CallStatus.OK)
    assert run.status is sandbox.RunStatus.TIMEOUT
    assert run.message == "the submission ran longer than the 1.5 s allowed for the whole submission and was stopped"
    # At most the calls that fit in 1.5 s (none, on a machine so loaded the child starts late).
    assert finished <= 4 and statuses == [sandbox.CallStatus.OK] * finished + [sandbox.CallStatus.TIMEOUT] * (20 - finished)
    assert [outcome.value for outcome in run.outcomes[:finished]] == list(range(finished))
    assert took < 6.0  # stopped, where the calls alone would take 8 s
    assert settle(lambda: server_children() == [])


def test_a_call_over_its_own_timeout_is_still_named_as_such_under_a_total():
    run = sandbox.run(SLOW_IN_EVERY_CALL, [sandbox.Call("f", (1,))], limits=sandbox.Limits(timeout=0.2, total_timeout=30))
    assert run.status is sandbox.RunStatus.TIMEOUT
    assert run.message == "the submission ran longer than the 0.2 s allowed for a call and was stopped"


def test_the_total_timeout_bounds_the_childs_cpu_limit_too():
    assert sandbox.Limits(timeout=10).for_child(20)["cpu_seconds"] == 211
    assert sandbox.Limits(timeout=10, total_timeout=60).for_child(20)["cpu_seconds"] == 61
    assert sandbox.Limits(timeout=1, total_timeout=60).for_child(3)["cpu_seconds"] == 5
    with pytest.raises(ValueError):
        sandbox.Limits(total_timeout=0)


def test_forks_are_refused_by_default():
    source = (HOSTILE / "fork_and_sleep.py").read_text()
    run = sandbox.run(source, [sandbox.Call("backward_propagation_n", (1, 2, 3))], limits=sandbox.Limits(timeout=1.0))
    assert run.status is sandbox.RunStatus.TIMEOUT
    assert "os.fork refused" in run.stdout and "ctypes fork refused" in run.stdout
    assert "child pid" not in run.stdout


def zero_gradients_source() -> str:
    return ("import numpy as np\n"
            "def backward_propagation_n(X, Y, cache):\n"
            "    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache\n"
            "    return {'dW1': np.zeros_like(W1), 'db1': np.zeros_like(b1), 'dW2': np.zeros_like(W2),\n"
            "            'db2': np.zeros_like(b2), 'dW3': np.zeros_like(W3), 'db3': np.zeros_like(b3)}\n")


def test_fake_verdicts_garbage_and_patched_numpy_do_not_change_what_comes_back():
    rng = np.random.default_rng(0)
    cache = tuple(rng.standard_normal(shape) for shape in
                  [(5, 3), (5, 3), (5, 4), (5, 1), (3, 3), (3, 3), (3, 5), (3, 1), (1, 3), (1, 3), (1, 3), (1, 1)])
    call = [sandbox.Call("backward_propagation_n", (rng.standard_normal((4, 3)), np.array([[1, 0, 1]]), cache))] * 2
    hostile = sandbox.run((HOSTILE / "fake_verdict.py").read_text(), call)
    plain = sandbox.run(zero_gradients_source(), call)
    assert hostile.status is plain.status is sandbox.RunStatus.OK
    for got, want in zip(hostile.outcomes, plain.outcomes):
        assert got.status is want.status is sandbox.CallStatus.OK
        assert got.value.keys() == want.value.keys()
        for key in want.value:
            assert got.value[key].shape == want.value[key].shape and not got.value[key].any()
    assert '"status": "pass"' in hostile.stdout  # printed, and ignored


def test_flooded_output_is_truncated_to_the_limit_and_says_of_how_much():
    run = sandbox.run((HOSTILE / "flood_output.py").read_text(), [sandbox.Call("backward_propagation_n", (1, 2, 3))])
    assert run.status is sandbox.RunStatus.OK and run.outcomes[0].value is None
    written = 32 * 1024 * len("spam " * 200 + "\n")
    for text in (run.stdout, run.stderr):
        assert text.endswith(f"[output truncated at 64 KiB: {sandbox.OUTPUT_LIMIT:,} of its {written:,} bytes are shown]")
        assert len(text.encode()) <= sandbox.OUTPUT_LIMIT + 100
    assert run.capped == (Capped("the submission's captured stdout", sandbox.OUTPUT_LIMIT, written, "bytes"),
                          Capped("the submission's captured stderr", sandbox.OUTPUT_LIMIT, written, "bytes"))


def test_output_within_the_limit_is_not_reported_capped():
    run = sandbox.run("print('hello')\ndef f():\n    print('x' * 1000)\n", [sandbox.Call("f")], limits=sandbox.Limits())
    assert run.capped == () and run.stdout == "hello\n" + "x" * 1000 + "\n"


def test_a_long_repr_and_a_long_error_come_back_cut_and_reported_with_their_whole_size():
    source = ("class Weights:\n    def __repr__(self):\n        return 'w' * 5000\n"
              "def weights():\n    return {'dW1': Weights()}\n"
              "def fails():\n    raise ValueError('v' * 7000)\n")
    run = sandbox.run(source, [sandbox.Call("weights"), sandbox.Call("fails")])
    opaque = run.outcomes[0].value["dW1"]
    assert isinstance(opaque, wire.Opaque) and opaque.cut and opaque.size == 5000
    assert run.outcomes[1].message.startswith("ValueError: " + "v" * child.MESSAGE_LIMIT)
    assert "[cut: 300 of 7,000 characters shown]" in run.outcomes[1].message
    assert run.capped == (Capped("the repr of a Weights that weights returned", wire.REPR_LIMIT, 5000),
                          Capped("the error message of fails", child.MESSAGE_LIMIT, 7000))


SANDBOX_PROPERTY = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SANDBOX_SIZES = st.one_of(st.integers(0, 300), st.sampled_from([9_999, 10_001, 16 * 1024 * 1024]),
                          st.integers(0, 16 * 1024 * 1024))


def sized_text(size: int, seed: int) -> str:
    """size characters, not all alike, ending in a mark of seed (built at once, not drawn one by one)."""
    mark = f"|{seed}é"
    return ("ab\"c'\n\\" * (size // 7 + 1))[:max(0, size - len(mark))] + mark[-size:] if size else ""


@SANDBOX_PROPERTY
@given(st.tuples(SANDBOX_SIZES, st.integers(0, 2 ** 16)), st.tuples(st.integers(0, 5_000), st.integers(0, 99)),
       st.tuples(SANDBOX_SIZES, st.integers(0, 2 ** 16)))
def test_a_source_its_file_name_and_an_argument_of_any_size_up_to_16_mb_cross_whole(literal, name, argument):
    # The source holds a literal of the drawn size ahead of the one function the test calls, which sends back
    # the literal, its own file name and the argument: each must come back exactly as it went. (The largest
    # of each at once: test_a_16_mb_source_file_name_and_argument_cross_whole_both_ways.)
    data, filename, sent = sized_text(*literal), sized_text(*name) + ".py", sized_text(*argument)
    source = f"DATA = {data!r}\n\ndef echo(value):\n    return DATA, __file__, value\n"
    run = sandbox.run(source, [sandbox.Call("echo", ({"args": [(sent,)]},))], filename=filename,
                      limits=sandbox.Limits(timeout=60))
    assert run.status is sandbox.RunStatus.OK and run.outcomes[0].status is sandbox.CallStatus.OK, run.message
    got_data, got_name, got_value = run.outcomes[0].value
    assert got_data == data and got_name == filename and got_value == {"args": [(sent,)]}
    assert run.capped == ()


@SANDBOX_PROPERTY
@given(st.integers(0, 200_000), st.integers(0, 5_000), st.integers(0, 2_000))
def test_whatever_comes_back_capped_is_reported_with_its_whole_size(printed, shown, raised):
    source = ("class Thing:\n    def __init__(self, size):\n        self.size = size\n"
              "    def __repr__(self):\n        return 'r' * self.size\n"
              "def talk(printed, shown):\n    print('p' * printed, end='')\n    return [Thing(shown)]\n"
              "def fail(raised):\n    raise ValueError('e' * raised)\n")
    run = sandbox.run(source, [sandbox.Call("talk", (printed, shown)), sandbox.Call("fail", (raised,))])
    expected = []
    if printed > sandbox.OUTPUT_LIMIT:
        expected.append(Capped("the submission's captured stdout", sandbox.OUTPUT_LIMIT, printed, "bytes"))
    if shown > wire.REPR_LIMIT:
        expected.append(Capped("the repr of a Thing that talk returned", wire.REPR_LIMIT, shown))
    if len("e" * raised) > child.MESSAGE_LIMIT:
        expected.append(Capped("the error message of fail", child.MESSAGE_LIMIT, raised))
    assert run.capped == tuple(expected)
    opaque = run.outcomes[0].value[0]
    assert opaque.cut == (shown > wire.REPR_LIMIT) and opaque.size == (shown if opaque.cut else 0)
    assert len(run.stdout.encode()) <= sandbox.OUTPUT_LIMIT + 100 and run.stdout.startswith("p" * min(printed, 1000))


@pytest.mark.parametrize("how", ["fork-server", "spawn"])
def test_an_argument_that_cannot_cross_whole_stops_the_run_instead_of_arriving_as_something_else(
        how, monkeypatch, tmp_path):
    if how == "spawn":
        monkeypatch.setattr(sandbox, "fork_server", lambda: None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run = sandbox.run("def f(x):\n    return x\n", [sandbox.Call("f", ({1: np.zeros(2)},))])
    assert run.status is sandbox.RunStatus.ERROR and run.outcomes[0].status is sandbox.CallStatus.NOT_RUN
    assert run.message == "gradgrade could not send the submission its job: a dict with keys other than strings cannot be sent"
    # settle: without root the fork server's new spare is a stand-in that forks its inner process a moment later.
    assert run.pid is None and settle(lambda: server_children() == []) and list(tmp_path.iterdir()) == []


def test_a_16_mb_source_file_name_and_argument_cross_whole_both_ways():
    # The function that answers is the source's last line; the argument comes back as it went.
    limit = 16 * 1024 * 1024
    tail = "def echo(value):\n    return value, len(__file__)\n"
    source = ("# " + "padding " * (limit // 8))[:limit - len(tail) - 1] + "\n" + tail
    filename = "é" + "n" * (limit - 4) + ".py"
    argument = {"notes": [("x" * (limit - 1) + "!",)], "dW1": np.arange(6.0).reshape(2, 3)}
    run = sandbox.run(source, [sandbox.Call("echo", (argument,))], filename=filename,
                      limits=sandbox.Limits(timeout=60))
    assert run.status is sandbox.RunStatus.OK and run.load_error is None, run.message
    assert run.defined == ("echo",) and run.outcomes[0].status is sandbox.CallStatus.OK
    value, name_length = run.outcomes[0].value
    assert name_length == len(filename) == limit and len(source) == limit
    assert value["notes"] == [("x" * (limit - 1) + "!",)] and np.array_equal(value["dW1"], argument["dW1"])
    assert run.capped == ()


def test_the_grader_and_the_reference_are_not_importable_but_the_course_helpers_are():
    source = ("import sys\n"
              "from gc_utils import sigmoid, dictionary_to_vector\n"
              "import testCases\n"
              "def loaded():\n"
              "    return sorted(name for name in sys.modules if name.split('.')[0] in ('grader', 'reference'))\n"
              "def main_module():\n"
              "    return sorted(vars(sys.modules['__main__']))\n")
    run = sandbox.run(source, [sandbox.Call("loaded"), sandbox.Call("main_module")])
    assert run.load_error is None
    assert run.outcomes[0].value == []
    assert "Server" not in run.outcomes[1].value


@pytest.mark.parametrize("statement, refused", [
    pytest.param("open('notes.txt', 'w').write('x')", False, id="write-in-scratch"),
    pytest.param("import os; os.makedirs('a/b'); open('a/b/c.npy', 'wb').write(b'x')", False, id="folders-in-scratch"),
    pytest.param("open('/etc/hostname').read()", True, id="read-etc"),
    pytest.param("import os; os.listdir('/')", True, id="list-root"),
    pytest.param("import os; os.mkdir('/tmp/gradgrade-hostile-escape')", True, id="mkdir-outside"),
    pytest.param("import os; os.symlink('/etc', 'etc')", True, id="symlink-out"),
    pytest.param("import ctypes; ctypes.CDLL('libc.so.6')", True, id="dlopen"),
    pytest.param("import numpy; numpy.linalg.norm(numpy.ones(3))", False, id="numpy"),
    pytest.param("import json, math, collections; json.dumps({})", False, id="stdlib"),
    pytest.param("import socket; socket.socket().bind(('127.0.0.1', 0))", True, id="bind"),
    pytest.param("import gc; gc.get_objects()", True, id="gc-walk"),
    pytest.param(f"open({str(HOSTILE.parent.parent / 'submissions' / 'correct_course_style.py')!r}).read()", True,
                 id="read-another-submission"),
    pytest.param("import os; os.open('..', os.O_RDONLY)", True, id="open-parent-folder"),
    pytest.param("import sys; sys.modules['grader.sandbox.child']", True, id="grader-modules-gone"),
])
def test_the_audit_hook(statement, refused):
    source = f"def attempt():\n    {statement}\n"
    outcome = sandbox.run(source, [sandbox.Call("attempt")]).outcomes[0]
    if refused:
        assert outcome.status is sandbox.CallStatus.ERROR, outcome
        assert "is not allowed" in outcome.message or "KeyError" in outcome.message, outcome
    else:
        assert outcome.status is sandbox.CallStatus.OK, outcome


@linux_only
def test_the_child_has_no_network_interface_up():
    source = "import socket\ndef names():\n    return [name for _, name in socket.if_nameindex()]\n"
    outcome = sandbox.run(source, [sandbox.Call("names")]).outcomes[0]
    # if_nameindex is not an audited connection; in a fresh network namespace only `lo` exists.
    assert outcome.status is sandbox.CallStatus.OK and outcome.value == ["lo"]


def test_spawned_children_are_contained_the_same_way(monkeypatch):
    monkeypatch.setenv("GRADGRADE_SANDBOX", "spawn")
    source = (HOSTILE / "network_connect.py").read_text() + "\ndef fine():\n    return 42\n"
    run = sandbox.run(source, [sandbox.Call("backward_propagation_n", (1, 2, 3)), sandbox.Call("fine")])
    assert "network access is not allowed" in run.outcomes[0].message
    assert run.outcomes[1].value == 42


def test_a_forked_worker_starts_its_own_fork_server():
    if not sys.platform.startswith("linux"):
        pytest.skip("the fork server runs on Linux")
    first = forkclient.fork_server()
    pid = os.fork()
    if pid == 0:
        try:
            mine = forkclient.fork_server()
            ok = mine is not None and mine is not first and mine.process.pid != first.process.pid
            run = sandbox.run("def f():\n    return 7\n", [sandbox.Call("f")])
            os._exit(0 if ok and run.outcomes[0].value == 7 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert forkclient.fork_server() is first


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server runs on Linux")
def test_a_server_started_early_is_waited_for_at_the_first_run_and_then_kept():
    forkclient.shutdown_fork_server()
    forkclient.start_fork_server()  # returns at once: nothing has read the server's word yet
    early = forkclient._server
    assert early is not None and not early.ready
    forkclient.start_fork_server()
    assert forkclient._server is early
    run = sandbox.run("def f():\n    return 7\n", [sandbox.Call("f")])
    assert run.outcomes[0].value == 7
    assert early.ready and forkclient.fork_server() is early


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server runs on Linux")
def test_a_server_started_early_that_dies_before_it_is_ready_is_replaced():
    forkclient.shutdown_fork_server()
    forkclient.start_fork_server()
    early = forkclient._server
    early.process.kill()
    early.process.wait()
    run = sandbox.run("def f():\n    return 7\n", [sandbox.Call("f")])
    assert run.outcomes[0].value == 7
    assert forkclient.fork_server() is not early and forkclient.fork_server().ready


def test_runs_from_several_threads_share_one_server():
    from concurrent.futures import ThreadPoolExecutor

    source = "def f(x):\n    return x * 2\n"
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda x: sandbox.run(source, [sandbox.Call("f", (x,))]), range(8)))
    assert [run.outcomes[0].value for run in runs] == [x * 2 for x in range(8)]


def test_memory_errors_say_memory_and_the_limit():
    text = child.describe(MemoryError(), "submission.py", memory_bytes=2 * 1024 ** 3)
    assert "out of memory" in text and "2048 MiB" in text


def test_a_failing_statement_at_load_does_not_stop_later_definitions():
    source = "import numpy as np\nimport package_gradgrade_does_not_have\n\ndef f():\n    return 5\n"
    run = sandbox.run(source, [sandbox.Call("f")])
    assert run.outcomes[0].value == 5
    assert run.load_error == "ModuleNotFoundError: No module named 'package_gradgrade_does_not_have' (line 2)"



def test_code_that_parses_but_does_not_compile_whole_runs_statement_by_statement():
    # A notebook cell may start with a `from __future__` import; a stray `return` fails in its cell alone.
    source = ("import numpy as np\nfrom __future__ import annotations\n"
              "def f(x: NotDefinedAnywhere) -> int:\n    return 1\nreturn 5\ndef g():\n    return 2\n")
    run = sandbox.run(source, [sandbox.Call("f", (0,)), sandbox.Call("g")])
    assert [outcome.value for outcome in run.outcomes] == [1, 2]  # f's annotation is never evaluated
    assert run.load_error == "SyntaxError: 'return' outside function (submission.py, line 5)"

@pytest.mark.parametrize("returned, runs", [
    pytest.param("3e-10", True, id="float-below"),
    pytest.param("np.array([[3e-10]])", True, id="one-by-one-array-below"),
    pytest.param("[3e-10, 'extra']", True, id="sequence-whose-first-is-below"),
    pytest.param("0.5", False, id="float-above"),
    pytest.param("-1.0", False, id="negative"),
    pytest.param("float('nan')", False, id="nan"),
    pytest.param("True", False, id="bool-is-not-a-number"),
    pytest.param("'1e-10'", False, id="text"),
])
def test_a_call_runs_only_when_the_call_it_waits_for_returned_a_number_below_its_bound(returned, runs):
    source = f"import numpy as np\ndef first():\n    return {returned}\ndef second():\n    return 'ran'\n"
    run = sandbox.run(source, [sandbox.Call("first"), sandbox.Call("second", only_if_below=(1, 1e-7))])
    outcome = run.outcomes[1]
    if runs:
        assert (outcome.status, outcome.value) == (sandbox.CallStatus.OK, "ran")
    else:
        assert outcome.status is sandbox.CallStatus.NOT_RUN
        assert "call 0 did not return a number in [0, 1e-07)" in outcome.message


def test_a_call_waiting_for_a_call_that_raised_is_not_run():
    source = "def first():\n    raise ValueError('no')\ndef second():\n    return 'ran'\n"
    run = sandbox.run(source, [sandbox.Call("first"), sandbox.Call("second", only_if_below=(1, 1e-7))])
    assert run.outcomes[1].status is sandbox.CallStatus.NOT_RUN


def test_exit_at_load_stops_loading():
    run = sandbox.run("import sys\nsys.exit(4)\ndef f():\n    return 5\n", [sandbox.Call("f")])
    assert run.outcomes[0].status is sandbox.CallStatus.MISSING
    assert run.load_error == "the submission called exit(4) (line 2)"


@linux_only
def test_the_child_reports_every_layer_on_linux():
    layers = dict(sandbox.run("x = 1\n", []).isolation)
    # As root the server forks each child straight into a new PID namespace, so process 1 leads its own
    # session; otherwise process 1 runs in the session of the stand-in the server forked.
    straight = processes.own_pid_namespace() is not None
    assert layers["process group"] == ("own session" if straight else "in its stand-in's session")
    assert layers["processes"] == "own PID namespace"
    assert layers["audit hook"] == "installed"
    assert "address space" in layers["rlimits"] and "file size" in layers["rlimits"]
    assert "network namespace" in layers["network"]
    assert layers["file system"].startswith("read-only outside the scratch folder")


@linux_only
def test_the_kernel_refuses_writes_outside_scratch_even_past_the_audit_hook():
    # Code that got past the audit hook would call libc's open itself; processes=True lets ctypes reach
    # libc, so only the read-only mount namespace stands in the way.
    source = ("import ctypes, os\n"
              "def attempt():\n"
              "    libc = ctypes.CDLL(None, use_errno=True)\n"
              "    fd = libc.open(b'/tmp/gradgrade-hostile-kernel', os.O_WRONLY | os.O_CREAT, 0o644)\n"
              "    return fd, os.strerror(ctypes.get_errno())\n")
    outcome = sandbox.run(source, [sandbox.Call("attempt")], limits=sandbox.Limits(processes=True)).outcomes[0]
    assert outcome.status is sandbox.CallStatus.OK, outcome
    assert outcome.value == (-1, "Read-only file system")
    assert not Path("/tmp/gradgrade-hostile-kernel").exists()


@linux_only
def test_the_reference_is_hidden_from_the_child_even_past_the_audit_hook():
    reference = guard.PACKAGE.parent / "reference" / "three_layer.py"
    assert reference.exists()
    source = ("import ctypes, os\n"
              "def attempt(path):\n"
              "    libc = ctypes.CDLL(None, use_errno=True)\n"
              "    fd = libc.open(path.encode(), os.O_RDONLY)\n"
              "    return fd, os.strerror(ctypes.get_errno())\n")
    outcome = sandbox.run(source, [sandbox.Call("attempt", (str(reference),))],
                          limits=sandbox.Limits(processes=True)).outcomes[0]
    assert outcome.value == (-1, "No such file or directory"), outcome


@pytest.mark.parametrize("mode", [pytest.param("fork", id="fork-server"), pytest.param("spawn", id="spawn")])
def test_the_graders_environment_does_not_reach_student_code(mode, monkeypatch):
    monkeypatch.setenv("GRADGRADE_TEST_SECRET", "instructor-token")
    if mode == "spawn":
        monkeypatch.setenv("GRADGRADE_SANDBOX", "spawn")
    else:
        forkclient.shutdown_fork_server()  # the next run starts a server while the secret is set
    source = "import os\ndef env():\n    return sorted(os.environ)\n"
    names = sandbox.run(source, [sandbox.Call("env")]).outcomes[0].value
    assert "GRADGRADE_TEST_SECRET" not in names and "HOME" in names


@linux_only
def test_a_grader_killed_mid_run_leaves_no_process_and_no_scratch_folder(tmp_path):
    import signal
    import subprocess

    script = ("import sys, tempfile\n"
              f"tempfile.tempdir = {str(tmp_path)!r}\n"
              "from grader.sandbox import run as sandbox\n"
              "print('started', flush=True)\n"
              "sandbox.run('import time\\ndef f():\\n    time.sleep(3600)\\n',"
              " [sandbox.Call('f')], limits=sandbox.Limits(timeout=3600))\n")
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    server, descendants = None, []

    def scratch_folders() -> list[Path]:
        # The run's own folder, or the one the server's children mount their private scratch on (the
        # server's environment has no TMPDIR: it is in /tmp).
        return [*tmp_path.iterdir(), *Path("/tmp").glob(f"gradgrade-scratch-{server}-*")]

    try:
        assert grader.stdout.readline().strip() == "started"
        assert settle(lambda: any(alive(pid) for pid in children_of(grader.pid)), seconds=30)
        server = next(pid for pid in children_of(grader.pid) if alive(pid))
        # The run's child and the next spare: the request has reached the server.
        assert settle(lambda: len(children_of(server)) >= 2, seconds=30) and scratch_folders()
        descendants = children_of(server)
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        assert settle(lambda: not alive(server) and not any(alive(pid) for pid in descendants), seconds=10)
        assert settle(lambda: not scratch_folders(), seconds=10), scratch_folders()
    except BaseException:  # a failed assertion must not leave a sleeping submission behind
        grader.kill()
        grader.wait()
        for pid in [*descendants, *([server] if server else [])]:
            processes.kill_group(pid)
        raise


def _exit_code_of_forked(body) -> int:
    """Run body() in a forked copy of this process; the code it exits with (70 if it returned or raised)."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(body())
        finally:
            os._exit(70)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@linux_only
def test_each_child_forked_into_a_pid_namespace_gets_a_new_one_and_the_server_stays_in_its_own():
    home = processes.own_pid_namespace()
    if home is None:
        pytest.skip("making a PID namespace per child and coming back to its own needs root")

    def server():
        # In a copy of this process (the test's own namespace is not changed): two children in a row are
        # each process 1 of a namespace, different ones, and a plain fork after them is not.
        namespaces = []
        for _ in range(2):
            wait_here, go = os.pipe()
            pid = processes.fork_into_pid_namespace(home)
            if pid == 0:
                os.read(wait_here, 1)  # alive until its namespace is read
                os._exit(3 if os.getpid() == 1 else 4)
            namespaces.append(os.readlink(f"/proc/{pid}/ns/pid"))
            os.write(go, b"x")
            os.close(wait_here), os.close(go)
            if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 3:
                return 5
        if namespaces[0] == namespaces[1] or os.readlink("/proc/self/ns/pid") in namespaces:
            return 6
        plain = os.fork()
        if plain == 0:
            os._exit(0 if os.getpid() != 1 else 4)
        return os.waitstatus_to_exitcode(os.waitpid(plain, 0)[1])

    try:
        assert _exit_code_of_forked(server) == 0
    finally:
        os.close(home)


@linux_only
def test_without_a_namespace_from_the_server_the_child_makes_one_behind_a_stand_in():
    # What a server without root does: a plain fork, then the child's own unshare; the stand-in leaves
    # with process 1's exit code. Without root, the server has first made the user namespace that lets it.
    def spare():
        containment.leave_network()
        if processes.enter_pid_namespace() == "own PID namespace" and os.getpid() == 1:
            return 9
        return 1

    assert _exit_code_of_forked(spare) == 9


@linux_only
def test_each_new_list_of_calls_reaches_the_children_forked_after_it():
    # The fork server holds each plan decoded, and its spare was forked before the second plan came: the
    # spare must give way, or the second run would find no calls.
    source = "def f(x):\n    return x * 10\n"
    first, second = [sandbox.Call("f", (1,))], [sandbox.Call("f", (2,)), sandbox.Call("f", (3,))]
    runs = [sandbox.run(source, calls) for calls in (first, second, first)]
    assert [[outcome.value for outcome in run.outcomes] for run in runs] == [[10], [20, 30], [10]]
    assert forkclient.fork_server().plans >= {sandbox.plan_of(first)[0], sandbox.plan_of(second)[0]}


@linux_only
@pytest.mark.parametrize("data", [None, b"not a plan"], ids=["never-sent", "garbled"])
def test_the_fork_server_starts_no_child_for_a_plan_it_does_not_hold(data):
    server = forkclient.fork_server()
    key = os.urandom(32).hex()
    if data is None:
        server.plans.add(key)  # as if sent, so start() does not send it
    pipes = [os.pipe() for _ in range(4)]
    try:
        with pytest.raises(OSError, match="did not start a child"):
            server.start([pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]], plan=(key, data or b""))
    finally:
        for fd in (fd for pair in pipes for fd in pair):
            os.close(fd)
    assert server.alive()
    assert sandbox.run("def f():\n    return 7\n", [sandbox.Call("f")]).outcomes[0].value == 7


@linux_only
def test_each_child_writes_in_a_scratch_folder_of_its_own_that_goes_away_with_it():
    server = forkclient.fork_server()
    if server.private_scratch is None:
        pytest.skip("no private scratch folders here (no mount namespace, or a user namespace without id maps): a folder per run")
    source = ("import os\n"
              "def look():\n"
              "    return os.getcwd(), sorted(os.listdir('.'))\n"
              "def write(name):\n"
              "    with open(name, 'w') as file:\n"
              "        file.write('x')\n"
              "    return sorted(os.listdir('.'))\n")
    calls = [sandbox.Call("look"), sandbox.Call("write", ("mine.txt",))]
    first, second = sandbox.run(source, calls), sandbox.run(source, calls)
    for run in (first, second):  # the same folder, empty for each, and the file only in the child's own
        assert run.outcomes[0].value == (server.private_scratch, [])
        assert run.outcomes[1].value == ["mine.txt"]
        assert "a tmpfs of its own" in dict(run.isolation)["file system"]
    assert os.listdir(server.private_scratch) == []


@linux_only
def test_a_private_scratch_folder_is_bounded():
    if forkclient.fork_server().private_scratch is None:
        pytest.skip("no private scratch folders here (no mount namespace, or a user namespace without id maps)")
    limit = 1024 ** 2
    source = ("def fill(count, size):\n"
              "    try:\n"
              "        for index in range(count):\n"
              "            with open(f'f{index}', 'wb') as file:\n"
              "                file.write(bytes(size))\n"
              "    except OSError as error:\n"
              "        return index, error.strerror\n"
              "    return count, None\n")
    # Files under the size limit each, more of them than the folder holds (4 files of the limit).
    run = sandbox.run(source, [sandbox.Call("fill", (10, limit - 1))], limits=sandbox.Limits(file_bytes=limit))
    assert run.outcomes[0].value == (4, "No space left on device"), run.outcomes[0]


@linux_only
def test_a_child_without_the_private_scratch_folder_it_was_promised_does_not_go_on():
    # The folder is shared by every child of the server: writing in it unmounted would let one
    # submission see another's files. (In a forked copy: the mount namespace is the copy's own.)
    def promised(folder: str):
        def body():
            try:
                containment.read_only_filesystem(folder, private_bytes=1 << 20)
            except containment.NoPrivateScratch:
                return 9
            return 1
        return body

    assert _exit_code_of_forked(promised("/nonexistent-gradgrade-folder")) == 9


def test_results_larger_than_the_pipe_holds_all_arrive():
    # The grader reads results only when woken or every RESULT_POLL seconds; a child with more to send
    # than the pipe holds waits for those reads, and nothing is lost.
    source = "import numpy as np\ndef big(n):\n    return np.arange(float(n))\n"
    count = 3 * output.RESULT_PIPE_BYTES // 8
    run = sandbox.run(source, [sandbox.Call("big", (count,)), sandbox.Call("big", (3,))])
    assert run.status is sandbox.RunStatus.OK, run.message
    assert np.array_equal(run.outcomes[0].value, np.arange(float(count)))
    assert run.outcomes[1].value.tolist() == [0.0, 1.0, 2.0]


def test_a_submission_that_closes_its_output_still_sends_every_result():
    # Closing stdout and stderr is how a finished child wakes the grader: done early, the grader goes
    # on reading results as they come.
    source = ("import os, time\n"
              "os.close(1)\n"
              "os.close(2)\n"
              "def slow(x):\n"
              "    time.sleep(0.2)\n"
              "    return x + 1\n")
    run = sandbox.run(source, [sandbox.Call("slow", (1,)), sandbox.Call("slow", (2,))])
    assert run.status is sandbox.RunStatus.OK, run.message
    assert [outcome.value for outcome in run.outcomes] == [2, 3]


@linux_only
def test_a_fork_server_killed_outright_takes_its_children_with_it_and_the_next_sweeps_its_folders(
        tmp_path, monkeypatch):
    import shutil
    import signal
    import subprocess

    from grader.sandbox import scratch

    script = (f"import tempfile; tempfile.tempdir = {str(tmp_path)!r}\n"
              "from grader.sandbox import run as sandbox\n"
              "print('started', flush=True)\n"
              "sandbox.run('import time\\ndef f():\\n    time.sleep(3600)\\n',"
              " [sandbox.Call('f')], limits=sandbox.Limits(timeout=3600))\n")
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    descendants: list[int] = []
    server = None

    def left() -> list[Path]:
        # The run's own folder (made by the grader where children cannot mount one), or the one the
        # server's children mount their private scratch on (the server has no TMPDIR: it is in /tmp).
        return [*tmp_path.glob(f"{scratch.RUN_PREFIX}*"), *Path("/tmp").glob(f"{scratch.SERVER_PREFIX}{server}-*")]

    try:
        assert grader.stdout.readline().strip() == "started"
        assert settle(lambda: any(alive(pid) for pid in children_of(grader.pid)), seconds=30)
        server = next(pid for pid in children_of(grader.pid) if alive(pid))
        # The run's child and the spare, both asleep (reading the job, in the submission's sleep, waiting
        # for a request): past the few instructions after a fork where a child does not yet die with the
        # server (PR_SET_PDEATHSIG is set there), which a loaded machine can stretch out.
        assert settle(lambda: len(children_of(server)) >= 2 and all(asleep(pid) for pid in children_of(server)),
                      seconds=30)
        descendants = children_of(server)
        grader.send_signal(signal.SIGSTOP)  # the grader must not remove its run's folder when the server dies
        os.kill(server, signal.SIGKILL)  # no shutdown: the server cannot kill anything itself
        assert settle(lambda: not any(alive(pid) for pid in descendants), seconds=10)
        grader.kill()
        grader.wait()
        leftovers = left()
        assert leftovers
        for folder in leftovers:  # as if a while had passed: a folder just made is not swept
            past = time.time() - 2 * scratch.STALE_AFTER
            os.utime(folder, (past, past))
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        forkclient.shutdown_fork_server()
        assert forkclient.fork_server() is not None  # the next server's start sweeps them
        assert left() == []
    except BaseException:  # a failed assertion must not leave a sleeping submission behind
        for pid in descendants:
            processes.kill_group(pid)
        raise
    finally:
        grader.kill()
        grader.wait()
        forkclient.shutdown_fork_server()  # the next test's server makes its run folders where it did before
        for folder in left():
            shutil.rmtree(folder, ignore_errors=True)


@linux_only
def test_a_run_holds_its_own_scratch_folder_until_it_removes_it(tmp_path, monkeypatch):
    import threading

    from grader.sandbox import scratch

    monkeypatch.setenv("GRADGRADE_SANDBOX", "spawn")  # a folder per run, wherever the server could mount one
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runs = []
    thread = threading.Thread(target=lambda: runs.append(sandbox.run(
        "import time\ndef f():\n    time.sleep(2)\n    return 1\n", [sandbox.Call("f")])))
    thread.start()
    try:
        assert settle(lambda: list(tmp_path.glob(f"{scratch.RUN_PREFIX}*")), seconds=30)
        (folder,) = tmp_path.glob(f"{scratch.RUN_PREFIX}*")
        # The folder exists a moment before its maker locks it (why a sweep leaves young folders alone):
        # it is made old here only once it is held, as a run's folder is by the time it could be old.
        assert settle(lambda: flocked(folder), seconds=30)
        past = time.time() - 2 * scratch.STALE_AFTER
        os.utime(folder, (past, past))
        assert scratch.sweep(folders=[str(tmp_path)]) == [] and folder.is_dir()
    finally:
        thread.join()
    assert runs[0].outcomes[0].value == 1 and not folder.exists()


def test_a_child_sending_more_results_than_the_grader_reads_is_stopped(monkeypatch):
    monkeypatch.setattr(sandbox, "RESULT_LIMIT", 4 * 1024 ** 2)
    source = ("import numpy as np\n"
              "def flood():\n"
              "    return np.zeros(1024 ** 2)\n")  # 8 MiB per result
    run = sandbox.run(source, [sandbox.Call("flood"), sandbox.Call("flood")])
    assert run.status is sandbox.RunStatus.ERROR
    assert "more than the 4 MiB of results" in run.message


@linux_only
def test_more_lists_of_calls_than_the_fork_server_keeps_are_all_made():
    # The server lets its oldest plans go; a run naming one it let go sends it again.
    source = "def f(x):\n    return x + 1\n"
    lists = [[sandbox.Call("f", (index,))] for index in range(forkserver.MAX_PLANS + 3)]
    values = [sandbox.run(source, calls).outcomes[0].value for calls in lists]
    assert values == [index + 1 for index in range(len(lists))]
    again = sandbox.run(source, lists[0])  # the first plan, let go long ago
    assert again.outcomes[0].value == 1
    assert "processes" in dict(again.isolation), "run by a spawned child, not the fork server"


def test_the_sandbox_runs_the_copy_of_gradgrade_that_started_it(tmp_path):
    """A second checkout (here a copy, not installed) forks its submissions from its own fork server and
    spawns its own child, not from whichever gradgrade the interpreter has installed."""
    import shutil
    import subprocess

    checkout = tmp_path / "checkout"
    shutil.copytree(Path(sandbox.__file__).parents[1], checkout / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from grader.sandbox import forkclient, run as sandbox\n"
        "assert sandbox.__file__.startswith(sys.argv[1]), sandbox.__file__\n"
        "call = [sandbox.Call('f', (2,))]\n"
        "forked = sandbox.run('def f(x):\\n    return x * 21', call)\n"
        "server = forkclient.fork_server()\n"
        "command = open(f'/proc/{server.process.pid}/cmdline', 'rb').read().split(b'\\0')\n"
        "forkclient.shutdown_fork_server()\n"
        "import os; os.environ['GRADGRADE_SANDBOX'] = 'spawn'\n"
        "spawned = sandbox.run('def f(x):\\n    return x * 21', call)\n"
        "print(forked.outcomes[0].value, spawned.outcomes[0].value, sys.argv[1].encode() in command)\n")
    done = subprocess.run([sys.executable, "-I", "-c", script, str(checkout)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.stdout.split() == ["42", "42", "True"], done.stderr[-2000:]


@pytest.mark.parametrize("own_relu, called", [("", False), ("def relu(x):\n    return x * (x > 0)\n", True)])
def test_a_call_of_the_submissions_own_function_only_skips_the_course_helper(own_relu, called):
    source = own_relu + "def uses_it(x):\n    return relu(x)\n"
    x = np.array([-1.0, 2.0])
    calls = [sandbox.Call("relu", (x,), own_only=True), sandbox.Call("relu", (x,)), sandbox.Call("uses_it", (x,))]
    run = sandbox.run(source, calls, inject={"relu": "gc_utils:relu"})
    assert run.outcomes[0].status is (sandbox.CallStatus.OK if called else sandbox.CallStatus.MISSING)
    assert ("relu" in run.defined) is called
    # A grader may still call the helper itself (l_layer's backward pass takes its cache from it), and
    # it is there for the student's code either way.
    assert [outcome.value.tolist() for outcome in run.outcomes[1:]] == [[0.0, 2.0], [0.0, 2.0]]


def test_a_first_only_call_sends_back_the_first_item_and_later_calls_still_get_all_of_it():
    from grader.sandbox.wire import REF_MARKER

    source = ("def forward():\n    return 2.5, (list(range(1000)), 'cache')\n"
              "def as_list():\n    return [7, 8]\n"
              "def plain():\n    return {'cost': 1.0}\n"
              "def cache_size(cache):\n    return len(cache[0])\n")
    calls = [sandbox.Call("forward", first_only=True), sandbox.Call("as_list", first_only=True),
             sandbox.Call("plain", first_only=True), sandbox.Call("cache_size", ({REF_MARKER: [0, 1]},))]
    run = sandbox.run(source, calls)
    assert [outcome.value for outcome in run.outcomes] == [(2.5,), [7], {"cost": 1.0}, 1000]
