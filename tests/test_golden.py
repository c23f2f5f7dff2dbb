"""Golden output: the result/v1 JSON of every sample submission and the mutation/v1 JSON of every built-in.

A change that means to alter what gradgrade reports refreshes them on purpose:
`python -m pytest tests/test_golden.py --refresh-golden`; any other change must leave them byte-identical
(moving code between modules, splitting a module, caching).
"""
from pathlib import Path

import pytest

from grader import assignments
from grader.mutation import judge
from grader.report import mutation as mutation_report
from grader.grading import pipeline
from grader.report import render
from grader.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SUBMISSIONS = ROOT / "submissions"
SAMPLES = sorted([(path, "three_layer") for path in SUBMISSIONS.glob("*") if path.suffix in {".py", ".ipynb"}]
                 + [(path, folder) for folder in ("l_layer", "one_d", "linear_classifiers", "layers")
                    for path in (SUBMISSIONS / folder).glob("*") if path.suffix in {".py", ".ipynb"}])


def _compare(request, name: str, text: str) -> None:
    golden = GOLDEN / name
    if request.config.getoption("--refresh-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"{golden} is missing: run pytest tests/test_golden.py --refresh-golden"
    assert text == golden.read_text(), f"{name} changed: refresh on purpose with --refresh-golden"


@pytest.mark.parametrize("path, assignment", SAMPLES,
                         ids=[f"{assignment}/{path.name}" for path, assignment in SAMPLES])
def test_a_sample_submissions_result_json_is_unchanged(request, path, assignment):
    result = pipeline.grade_file(path, Settings(assignment=assignment), assignment=assignments.get(assignment))
    _compare(request, f"results/{assignment}/{path.name}.json", render.json_text(result) + "\n")


@pytest.mark.parametrize("assignment", assignments.BUILT_IN)
def test_the_mutation_test_json_of_a_built_in_is_unchanged(request, assignment):
    run = judge.run(assignments.get(assignment).module)
    _compare(request, f"mutation/{assignment}.json", mutation_report.json_text(run) + "\n")
