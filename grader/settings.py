"""How to grade a submission: plain data, so it can travel to another process or machine."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from grader import reference
from grader.numerics import check


@dataclass(frozen=True)
class Settings:
    """Everything that changes a grade; two runs with equal Settings grade a file the same way."""

    assignment: str = reference.DEFAULT
    epsilon: float = check.EPSILON
    threshold: float = check.THRESHOLD
    timeout: float = 10.0
    # Seconds for a whole submission, loading and every call: one slow in every call stops here.
    total_timeout: float = 60.0
    run_all: bool = False
    # An instructor's rubric as the tables of its TOML file (score.load_rubric), or None for the default.
    rubric: dict[str, Any] | None = None
    # Check ReLU/sigmoid networks along random directions first, exactly only where those disagree (large.py).
    fast: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.epsilon < 1:
            raise ValueError(f"epsilon must be in (0, 1), got {self.epsilon}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.total_timeout <= 0:
            raise ValueError(f"total_timeout must be positive, got {self.total_timeout}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Settings":
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
