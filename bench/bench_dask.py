"""Grade one replicated sample class with the local pool and with a Dask LocalCluster, in the same run.

    python bench/bench_dask.py [--count 200] [--workers 2]

Prints two JSON lines, {"bench": "batch", "executor": "local", ...} and {"bench": "batch",
"executor": "dask-local", ...}: a whole `gradgrade grade` (discovery, gradebook, grading, reports) into
a fresh output folder each, with the same number of one-thread workers. The Dask line also gives the
cluster's start-up time (not in "seconds") and its overhead against the local pool.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments
from grader.batch import batch, discover, executors  # noqa: E402
from grader.batch.dask_executor import DaskExecutor  # noqa: E402
from grader.settings import Settings  # noqa: E402

SUBMISSIONS = ROOT / "submissions"


def replicate(folder: Path, count: int) -> Path:
    """count submissions made from the sample class, cycling through it."""
    samples = discover.discover(SUBMISSIONS, assignment=assignments.get("three_layer"))
    folder.mkdir(parents=True)
    for index in range(count):
        sample = samples[index % len(samples)]
        name = Path(sample.filename)
        (folder / f"s{index:05d}_{name.stem}{name.suffix}").write_bytes(sample.read())
    return folder


def timed_grade(folder: Path, out: Path, settings: Settings, *, workers: int,
                executor: executors.Executor | None = None) -> tuple[batch.Summary, float]:
    started = time.perf_counter()
    summary = batch.grade(folder, out, settings, assignment=assignments.get(settings.assignment), jobs=workers, executor=executor)
    return summary, time.perf_counter() - started


def dask_line(folder: Path, out: Path, settings: Settings, *, workers: int, local: batch.Summary,
              local_seconds: float) -> dict:
    """Grade folder on a fresh Dask LocalCluster of `workers` workers; its JSON line against the local run."""
    started = time.perf_counter()
    with DaskExecutor("local", workers=workers) as executor:
        start_seconds = time.perf_counter() - started
        dask, dask_seconds = timed_grade(folder, out, settings, workers=workers, executor=executor)
    same = [result.to_json() for result in dask.results] == [result.to_json() for result in local.results]
    return {"bench": "batch", "executor": "dask-local", "submissions": len(dask.results), "workers": workers,
            "cores": os.cpu_count(), "seconds": round(dask_seconds, 2),
            "submissions_per_second": round(len(dask.results) / dask_seconds, 1),
            "cluster_start_seconds": round(start_seconds, 2),
            "overhead_vs_local": round(dask_seconds / local_seconds - 1, 3),
            "same_results_as_local": same, "statuses": dask.counts()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    workdir = Path(tempfile.mkdtemp(prefix="gradgrade-bench-dask-"))
    try:
        folder = replicate(workdir / "class", args.count)
        local, local_seconds = timed_grade(folder, workdir / "out-local", settings, workers=args.workers)
        print(json.dumps({"bench": "batch", "executor": "local", "submissions": len(local.results),
                          "workers": args.workers, "cores": os.cpu_count(), "seconds": round(local_seconds, 2),
                          "submissions_per_second": round(len(local.results) / local_seconds, 1),
                          "statuses": local.counts()}), flush=True)
        print(json.dumps(dask_line(folder, workdir / "out-dask", settings, workers=args.workers, local=local,
                                   local_seconds=local_seconds)), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
