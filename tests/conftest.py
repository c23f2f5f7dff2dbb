"""Shared fixtures: where the sample class lives; property tests the same on every run unless asked to explore."""
from pathlib import Path

import pytest
from hypothesis import settings

# The suite's property tests draw the same examples on every run, so a run on a new machine (CI) tests what
# the last one did; `pytest --hypothesis-profile explore` draws new ones to look for what they miss.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=200)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture
def submissions_dir() -> Path:
    return SUBMISSIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--refresh-golden", action="store_true",
                     help="rewrite tests/golden/ from what gradgrade reports now (tests/test_golden.py)")
