"""Shared fixtures: where the sample class lives."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture
def submissions_dir() -> Path:
    return SUBMISSIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--refresh-golden", action="store_true",
                     help="rewrite tests/golden/ from what gradgrade reports now (tests/test_golden.py)")
