"""Time the whole mutation catalogue: generate every mutant, run it on every case of both profiles, judge it.

Pinned to one core with single-threaded BLAS; each repeat starts from cold caches (cases and numerical
gradients recomputed). Prints one JSON line: the best wall and CPU time and mutants per second.
Usage: python bench/bench_mutation.py [--assignment three_layer] [--repeats 5]
"""
from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from grader import assignments  # noqa: E402
from grader.mutation import judge, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="three_layer")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    module = assignments.get(args.assignment).module
    walls, cpus, run = [], [], None
    for _ in range(args.repeats):
        assignments._cases.cache_clear()
        assignments._expected.cache_clear()
        wall, cpu = time.perf_counter(), time.process_time()
        run = judge.run(module)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    cases = sum(len(module.cases(profile=profile)) for profile in records.PROFILES)
    print(json.dumps({"bench": "mutation", "assignment": args.assignment, "mutants": len(run.mutants),
                      "cases": cases, "profiles": list(records.PROFILES), "repeats": args.repeats,
                      "seconds": round(min(walls), 4), "cpu_seconds": round(min(cpus), 4),
                      "mutants_per_second": round(len(run.mutants) / min(walls), 1),
                      "under_2_seconds": min(walls) < 2.0, "passed": run.passed}))


if __name__ == "__main__":
    main()
