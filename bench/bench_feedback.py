"""Benchmark: what grading the student's checker and diagnosing the bug add to one submission's grading.

Prints one JSON line: seconds per submission with every grader and with the backward pass only, the
checker's calls per submission, and the one-time cost of the probes and the diagnosis catalogue.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from grader import assignments
from grader.grading import backward, checker_probes, matching, pipeline
from grader.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "submissions").glob("*.py"))


def per_submission(repeats: int) -> float:
    times = []
    for _ in range(repeats):
        for path in SAMPLES:
            start = time.perf_counter()
            pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
            times.append(time.perf_counter() - start)
    return statistics.mean(times)


def main(repeats: int = 2) -> None:
    start = time.perf_counter()
    probes = checker_probes.probes(assignments.get("three_layer"))
    probes_seconds = time.perf_counter() - start
    start = time.perf_counter()
    matching.catalogue_candidates(assignments.get("three_layer"))
    catalogue_seconds = time.perf_counter() - start
    pipeline.grade_file(SAMPLES[0], Settings(), assignment=assignments.get("three_layer"))  # warm caches (cases, expected gradients)
    full = per_submission(repeats)
    graders = pipeline.GRADERS
    pipeline.GRADERS = (backward,)
    try:
        backward_only = per_submission(repeats)
    finally:
        pipeline.GRADERS = graders
    print(json.dumps({
        "bench": "feedback", "submissions": len(SAMPLES), "repeats": repeats,
        "seconds_per_submission_all_graders": round(full, 4),
        "seconds_per_submission_backward_only": round(backward_only, 4),
        "checker_calls_per_submission": len(probes),
        "probes_one_time_seconds": round(probes_seconds, 3),
        "diagnosis_catalogue_one_time_seconds": round(catalogue_seconds, 3),
    }))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
