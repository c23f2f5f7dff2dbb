"""Time one submission through the sandbox against a plain `python -c "import numpy"` spawn, in one run.

    python bench/bench_sandbox.py [--runs 30] [--spawns 5]

Prints one JSON line: {"bench": "sandbox", "submission_ms": ..., "spawn_ms": ..., "ratio_vs_spawn": ...,
"target": 0.15, ...}. A submission is the correct course-style sample with every call the pipeline makes
(the backward pass on each case, and whatever other graders add), through grader.sandbox.run: fork from
the server, contain, load, call, send the arrays back, decode. The fork server's one-time start is
reported apart (server_start_ms), as a batch pays it once per worker.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402
from grader.grading import backward
from grader.load import program as load
from grader.sandbox import forkclient
from grader.sandbox import run as sandbox
from grader.settings import Settings  # noqa: E402

TARGET = 0.15


def spawn_ms(count: int) -> float:
    """Median milliseconds of a fresh interpreter that imports numpy and exits."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--spawns", type=int, default=5)
    args = parser.parse_args()
    program = load.load(ROOT / "submissions" / "correct_course_style.py")
    assignment = assignments.get("three_layer")
    calls = backward.calls(assignment, Settings())
    start = time.perf_counter()
    server = forkclient.fork_server()
    server_start = (time.perf_counter() - start) * 1e3
    sandbox.run(program.source, calls, filename=program.filename)  # warm the grader side's imports
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        run = sandbox.run(program.source, calls, filename=program.filename)
        times.append((time.perf_counter() - start) * 1e3)
        assert run.status is sandbox.RunStatus.OK and all(o.status is sandbox.CallStatus.OK for o in run.outcomes)
    submission = statistics.median(times)
    spawn = spawn_ms(args.spawns)
    print(json.dumps({
        "bench": "sandbox", "submission_ms": round(submission, 2), "spawn_ms": round(spawn, 2),
        "ratio_vs_spawn": round(submission / spawn, 3), "target": TARGET, "meets_target": submission / spawn <= TARGET,
        "server_start_ms": round(server_start, 1), "fork_server": server is not None, "calls": len(calls),
        "runs": args.runs,
    }))


if __name__ == "__main__":
    main()
