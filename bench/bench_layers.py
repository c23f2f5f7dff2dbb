"""Time the layers spec beside three_layer in one run: `gradgrade check` of one correct file, and a class of
copies of it graded with every report.

    python bench/bench_layers.py [--count 200] [--jobs 2] [--repeat 5]

Prints two JSON lines: {"bench": "check_layers", ...} with the wall seconds of `gradgrade check` (a fresh
process: start, plan with its numerical gradients, sandbox, report) of a complete correct layers.py and of
the three_layer sample, best and median of --repeat runs each; and {"bench": "batch_layers", ...} with the
files per second of `gradgrade grade` over --count distinct copies of each, on --jobs workers.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402
from grader.batch import batch  # noqa: E402
from grader.settings import Settings  # noqa: E402

SAMPLES = {"layers": ROOT / "submissions" / "layers" / "correct_loops.py",
           "three_layer": ROOT / "submissions" / "correct_course_style.py"}


def check_seconds(assignment: str, repeat: int) -> list[float]:
    """Wall seconds of each `gradgrade check` of the assignment's correct sample, in a fresh process."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "grader", "check", str(SAMPLES[assignment]),
                                    "--assignment", assignment], capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
        if completed.returncode != 0:
            raise SystemExit(f"check of {assignment} failed: {completed.stdout[-500:]}{completed.stderr[-500:]}")
    return times


def batch_rate(assignment: str, count: int, jobs: int, scratch: Path) -> dict[str, float]:
    """Files per second of grading count distinct copies of the correct sample, reports and all."""
    folder, out = scratch / f"{assignment}-class", scratch / f"{assignment}-reports"
    folder.mkdir()
    data = SAMPLES[assignment].read_bytes()
    for index in range(count):
        (folder / f"s{index:04d}.py").write_bytes(data + f"\n# copy {index}\n".encode())
    started = time.perf_counter()
    summary = batch.grade(folder, out, Settings(assignment=assignment), assignment=assignments.get(assignment),
                          jobs=jobs)
    seconds = time.perf_counter() - started
    passed = sum(result.status.value == "pass" for result in summary.results)
    if passed != count:
        raise SystemExit(f"{assignment}: {passed} of {count} copies passed")
    return {"seconds": round(seconds, 2), "per_second": round(count / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    check = {name: check_seconds(name, options.repeat) for name in ("three_layer", "layers")}
    print(json.dumps({"bench": "check_layers", "layers_best_s": round(min(check["layers"]), 3),
                      "layers_median_s": round(statistics.median(check["layers"]), 3),
                      "three_layer_best_s": round(min(check["three_layer"]), 3),
                      "three_layer_median_s": round(statistics.median(check["three_layer"]), 3),
                      "ratio_vs_three_layer": round(min(check["layers"]) / min(check["three_layer"]), 2),
                      "functions": len(assignments.get("layers").functions), "cpus": os.cpu_count()}), flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="gradgrade-bench-layers-"))
    try:
        rates = {name: batch_rate(name, options.count, options.jobs, scratch) for name in ("three_layer", "layers")}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"bench": "batch_layers", "count": options.count, "jobs": options.jobs,
                      "layers_files_per_second": rates["layers"]["per_second"],
                      "three_layer_files_per_second": rates["three_layer"]["per_second"],
                      "layers_seconds": rates["layers"]["seconds"], "three_layer_seconds": rates["three_layer"]["seconds"],
                      "ratio_vs_three_layer": round(rates["layers"]["per_second"] / rates["three_layer"]["per_second"], 2)}))


if __name__ == "__main__":
    main()
