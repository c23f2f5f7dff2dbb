"""Read every submission time of an nbgrader class zip of N students; print one JSON line.

    python bench/bench_late.py [--count 3000]

Each student's timestamp.txt is a member of the one zip: late.submitted_all opens the zip once for the
class; opening it once per student (what late.submitted does for one submission) reads the zip's whole
directory each time. The line has both, the second measured on the first 300 students and scaled.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import zipfile
from pathlib import Path

from grader.batch import discover
from grader.grading import late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    count = parser.parse_args().count
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "class.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            for index in range(count):
                zipped.writestr(f"submitted/s{index:05d}/ps1/gc.py", "x = 1\n")
                zipped.writestr(f"submitted/s{index:05d}/ps1/timestamp.txt", "2026-03-01 10:00:00.000000 UTC")
        submissions = discover.survey(archive).submissions
        started = time.perf_counter()
        found = late.submitted_all(submissions)
        once = time.perf_counter() - started
        sample = submissions[:300]
        started = time.perf_counter()
        for submission in sample:
            late.submitted(submission)
        each = (time.perf_counter() - started) / len(sample) * len(submissions)
    print(json.dumps({"bench": "late_times", "students": len(submissions),
                      "times_read": sum(1 for when in found.values() if when.at is not None),
                      "zip_opened_once_seconds": round(once, 3), "zip_opened_per_student_seconds": round(each, 2)}))


if __name__ == "__main__":
    main()
