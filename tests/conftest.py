"""Shared fixtures: where the sample class lives."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture
def submissions_dir() -> Path:
    return SUBMISSIONS
