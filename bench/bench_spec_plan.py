"""Time building a spec assignment's plan from cold: screened cases, numerical gradients and the mutant catalogue.

Each measurement runs in a fresh interpreter (nothing cached, numpy already imported), pinned to one core with
single-threaded BLAS, and the best of --repeats counts. Prints one JSON line: per example spec (every
examples/assignments/*.py, or the --spec files or names given) the seconds to resolve it, draw and screen both
profiles' cases, and build the grading plan with its mutant catalogue and diagnosis candidates; and, as the
baseline measured in the same run, three_layer's plan seconds.
Usage: python bench/bench_spec_plan.py [--spec FILE ...] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in the fresh interpreter: the stages' seconds for one assignment, as a JSON object.
PROBE = r"""
import json, sys, time
import numpy
from grader import assignments
from grader.grading import pipeline
from grader.settings import Settings
name = sys.argv[1]
started = time.perf_counter()
assignment = assignments.get(name)
resolved = time.perf_counter()
if assignment.spec:
    assignment.spec_cases("course"); assignment.spec_cases("square")
drawn = time.perf_counter()
pipeline.plan(assignment, Settings(assignment=name))
if assignment.graded_by_spec:  # the catalogue a batch worker makes as it warms up (a check only on a failure)
    from grader.grading import spec_diagnosis
    spec_diagnosis.prepare(assignment)
planned = time.perf_counter()
found = {"resolve": resolved - started, "cases": drawn - resolved, "plan": planned - drawn,
         "total": planned - started}
if assignment.spec:
    from grader.mutation import spec_catalogue
    run = spec_catalogue.catalogue(assignment).run
    found.update(mutants=len(run.mutants), passed=run.passed)
print(json.dumps(found))
"""


def measure(name: str, repeats: int) -> dict:
    """The best (least total) of repeats cold measurements of one assignment's plan."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "PYTHONPATH": str(ROOT)}
    pin = ["taskset", "-c", str(min(os.sched_getaffinity(0)))] if hasattr(os, "sched_getaffinity") and \
        Path("/usr/bin/taskset").exists() else []
    runs = []
    for _ in range(repeats):
        completed = subprocess.run([*pin, sys.executable, "-c", PROBE, name], capture_output=True, text=True,
                                   env=environment, cwd=ROOT, timeout=300, check=True)
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda found: found["total"])
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", action="append", default=[],
                        help="a spec file or an installed spec assignment's name (default: every example spec)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    specs = [str(Path(name).resolve()) if name.endswith(".py") else name for name in args.spec] or \
        [str(path) for path in sorted((ROOT / "examples" / "assignments").glob("*.py"))]
    found = {Path(name).stem: measure(name, args.repeats) for name in specs}
    baseline = measure("three_layer", args.repeats)
    print(json.dumps({"bench": "spec_plan", "repeats": args.repeats, "specs": found,
                      "plan_seconds": {name: spec["total"] for name, spec in found.items()},
                      "three_layer_plan_seconds": baseline["total"],
                      "ratio_to_three_layer": {name: round(spec["total"] / baseline["total"], 2)
                                               for name, spec in found.items()},
                      "under_2_seconds": all(spec["total"] < 2.0 for spec in found.values())}))


if __name__ == "__main__":
    main()
