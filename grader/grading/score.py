"""Points for each check from a rubric (the default one or an instructor's TOML), with partial credit."""
from __future__ import annotations

import dataclasses
import functools
import json
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from grader.grading import picking
from grader.results import CheckResult, Status

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# The course's checker prints "works perfectly fine" below 2e-7: its own value on correct gradients
# (epsilon 1e-7, the naive log cost) is about 1.2e-7, so the sound backward threshold 1e-7 would fail it.
CHECKER_THRESHOLD = 2e-7
VALUE_RTOL = 1e-3


class RubricError(ValueError):
    """A rubric file that cannot be used; the message is one line for the instructor."""


@dataclass(frozen=True)
class Rubric:
    """Points per graded function and the thresholds that decide them.

    The backward pass's points are shared out equally over its parameters. The checker's points are
    the sum of four parts: it accepts the reference, it catches the mutants (a share per mutant), its
    value agrees with the course method (a share per comparison), and it never crashes.
    """

    backward_points: float = 6.0
    checker_reference: float = 1.0
    checker_mutants: float = 1.0
    checker_value: float = 1.0
    checker_no_crash: float = 1.0
    forward_points: float = 0.0
    threshold: float | None = None
    checker_threshold: float = CHECKER_THRESHOLD
    value_rtol: float = VALUE_RTOL
    # A function defined under a near-miss name (back_propagation_n) is graded under the expected one,
    # with this fraction of its points taken off; by default it is missing, with "did you mean ...?".
    accept_near_miss: bool = False
    near_miss_penalty: float = 0.0

    def __post_init__(self) -> None:
        # Messages name the key as the instructor wrote it in the TOML file (backward.points), not the field.
        if not isinstance(self.accept_near_miss, bool):
            raise RubricError(f"rubric: names.accept_near_miss must be true or false, got {self.accept_near_miss!r}")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "threshold" and value is None or field.name == "accept_near_miss":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RubricError(f"rubric: {toml_key(field.name)} must be a number, got {value!r}")
            if value < 0:
                raise RubricError(f"rubric: {toml_key(field.name)} cannot be negative, got {value}")
        for name in ("threshold", "checker_threshold", "value_rtol"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise RubricError(f"rubric: {toml_key(name)} must be in (0, 1), got {value}")
        if self.near_miss_penalty > 1:
            raise RubricError(f"rubric: names.near_miss_penalty is a fraction of the points, from 0 to 1, "
                              f"got {self.near_miss_penalty}")

    @property
    def checker_points(self) -> float:
        return self.checker_reference + self.checker_mutants + self.checker_value + self.checker_no_crash


DEFAULT_RUBRIC = Rubric()

# Where each Rubric field lives in an instructor's TOML file.
TOML_KEYS = {
    ("backward", "points"): "backward_points",
    ("backward", "threshold"): "threshold",
    ("checker", "reference"): "checker_reference",
    ("checker", "mutants"): "checker_mutants",
    ("checker", "value"): "checker_value",
    ("checker", "no_crash"): "checker_no_crash",
    ("checker", "threshold"): "checker_threshold",
    ("checker", "rtol"): "value_rtol",
    ("forward", "points"): "forward_points",
    ("names", "accept_near_miss"): "accept_near_miss",
    ("names", "near_miss_penalty"): "near_miss_penalty",
}


class Visibility(str, Enum):
    """When Gradescope shows a student a test (or gradgrade's printed output): its four documented values."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    AFTER_DUE_DATE = "after_due_date"
    AFTER_PUBLISHED = "after_published"


@dataclass(frozen=True)
class GradescopeRubric:
    """The rubric's [gradescope] table: when students see each test and what gradgrade printed while grading.

    `visibility` is every test's; `backward`, `checker` and `forward` (the rubric's kinds of check) override it
    for that check's test. `stdout_visibility` is for the autograder's own printed log, which is only the
    instructor's by default.
    """

    visibility: Visibility = Visibility.VISIBLE
    stdout_visibility: Visibility = Visibility.HIDDEN
    backward: Visibility | None = None
    checker: Visibility | None = None
    forward: Visibility | None = None

    def of(self, kind: str) -> Visibility:
        """The visibility of the test for one kind of check (backward, checker, forward)."""
        return getattr(self, kind, None) or self.visibility


GRADESCOPE_KEYS = ("visibility", "stdout_visibility", "backward", "checker", "forward")


def gradescope_rubric(data: Mapping[str, Any] | None) -> GradescopeRubric:
    """The [gradescope] table of a TOML rubric's tables (the default when it has none); errors name the key."""
    table = (data or {}).get("gradescope", {})
    if not isinstance(table, Mapping):
        raise RubricError("rubric: 'gradescope' must be a table like [gradescope]")
    allowed = ", ".join(f'"{value.value}"' for value in Visibility)
    values = {}
    for key, value in table.items():
        if key not in GRADESCOPE_KEYS:
            known = ", ".join(f"gradescope.{name}" for name in GRADESCOPE_KEYS)
            raise RubricError(f"rubric: unknown key gradescope.{key} (known: {known})")
        try:
            values[key] = Visibility(value)
        except ValueError:
            raise RubricError(f"rubric: gradescope.{key} must be one of {allowed}, got {value!r}") from None
    return GradescopeRubric(**values)


def toml_key(field: str) -> str:
    """The key an instructor writes in the TOML rubric for a Rubric field: backward_points is backward.points."""
    return next((f"{section}.{key}" for (section, key), name in TOML_KEYS.items() if name == field), field)


def rubric_from_dict(data: Mapping[str, Any]) -> Rubric:
    """A Rubric from the tables of a TOML rubric ([backward], [checker], [forward], [names]); unknown keys
    are errors."""
    if not isinstance(data, Mapping):
        raise RubricError("rubric: expected tables [backward], [checker], [forward], [names]")
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section == "gradescope":  # when Gradescope shows what, not points: gradescope_rubric reads it
            continue
        if section == "late":  # the late policy, read and checked by grader.late
            continue
        if section == "pick" and isinstance(table, Mapping):  # which file is graded, not points: grader.picking's
            picking.from_table(table)
            continue
        if section == "conventions":  # which accepted convention a spec's function must follow: conventions.py's
            if not isinstance(table, Mapping) or not all(isinstance(value, str) for value in table.values()):
                raise RubricError('rubric: [conventions] maps a function to the name of the convention it must '
                                  'follow, like svm_loss_vectorized = "svm_loss_vectorized_half_reg"')
            continue
        if not isinstance(table, Mapping):
            raise RubricError(f"rubric: {section!r} must be a table like [{section}]")
        for key, value in table.items():
            field = TOML_KEYS.get((section, key))
            if field is None:
                known = ", ".join([f"{s}.{k}" for s, k in TOML_KEYS] + [f"gradescope.{k}" for k in GRADESCOPE_KEYS]
                                  + ["conventions.<function>"])
                raise RubricError(f"rubric: unknown key {section}.{key} (known: {known})")
            values[field] = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return Rubric(**values)


def load_rubric(path: str | Path) -> dict[str, Any]:
    """The tables of a TOML rubric file, checked: plain data that Settings can carry to any worker."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise RubricError(f"rubric {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise RubricError(f"rubric {path}: not valid TOML ({error})") from None
    rubric_from_dict(data)
    gradescope_rubric(data)
    if "late" in data:
        from grader.grading import late

        late.policy_from_table(data["late"])
    return data


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> Rubric:
    return rubric_from_dict(json.loads(text))


def rubric_of(settings: Any) -> Rubric:
    """The rubric a Settings asks for (its `rubric` tables), or the default one."""
    data = getattr(settings, "rubric", None)
    if not data:
        return DEFAULT_RUBRIC
    return _parsed(json.dumps(data, sort_keys=True))


def with_rubric_thresholds(settings: Any) -> Any:
    """Settings whose threshold is the rubric's backward threshold, when the rubric sets one."""
    threshold = rubric_of(settings).threshold
    if threshold is None or threshold == settings.threshold:
        return settings
    return dataclasses.replace(settings, threshold=threshold)


def score_backward(result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC) -> CheckResult:
    """The backward pass's check with its points: an equal share for each parameter that passes everywhere."""
    total = rubric.backward_points
    if not result.parameters:
        points = total if result.status is Status.PASS else 0.0
    else:
        passed = sum(1 for parameter in result.parameters if parameter.status is Status.PASS)
        points = total * passed / len(result.parameters)
    return dataclasses.replace(result, points=round(points, 6), max_points=total)


def checker_parts(result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC) -> dict[str, float]:
    """The checker's points part by part, from the counts the checker grader put in its details."""
    details = result.details or {}
    if result.status in (Status.MISSING, Status.TIMEOUT) or "probes" not in details:
        return {"reference": 0.0, "mutants": 0.0, "value": 0.0, "no_crash": 0.0}
    probes, compared = details["probes"], details["compared"]
    # A checker earns nothing for what a constant would also do: accepting the correct gradients counts only
    # when it also rejects some bug, and never crashing only when its numbers follow its inputs. (Its caught
    # bugs already count only where it accepted the same case's correct gradients.) Details recorded before
    # these fields existed are taken as they were scored then.
    discriminates = details.get("discriminates", True)
    responsive = details.get("depends_on_inputs", True)
    return {
        "reference": rubric.checker_reference if details["reference_accepted"] and discriminates else 0.0,
        "mutants": rubric.checker_mutants * details["caught"] / probes if probes else 0.0,
        "value": rubric.checker_value * details["agreeing"] / compared if compared and responsive else 0.0,
        "no_crash": 0.0 if details["crashed"] or not responsive else rubric.checker_no_crash,
    }


def score_checker(result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC) -> CheckResult:
    """The student's gradient checker with its points: the sum of its four parts (partial credit in each)."""
    parts = checker_parts(result, rubric)
    details = {**(result.details or {}), "points": {name: round(value, 6) for name, value in parts.items()}}
    return dataclasses.replace(result, points=round(sum(parts.values()), 6), max_points=rubric.checker_points,
                               details=details)


def score_forward(result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC) -> CheckResult:
    """The forward pass's check: all its points when the cost is right on every case (none by default)."""
    points = rubric.forward_points if result.status is Status.PASS else 0.0
    return dataclasses.replace(result, points=points, max_points=rubric.forward_points)


def score_declared(result: CheckResult, points: float) -> CheckResult:
    """A spec's function: its points shared equally over what it returns (the loss, each gradient), each
    share earned where that part is right on every case; none for a function that is not implemented."""
    parts = result.parameters
    passed = sum(parameter.status is Status.PASS for parameter in parts)
    earned = points * passed / len(parts) if parts and result.status is not Status.MISSING else 0.0
    if not parts and result.status is Status.PASS:
        earned = points
    return dataclasses.replace(result, points=round(earned, 6), max_points=points)


SCORERS: dict[str, Callable[[CheckResult, Rubric], CheckResult]] = {
    "backward": score_backward, "checker": score_checker, "forward": score_forward}


def score_check(kind: str, result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC, *,
                points: float | None = None) -> CheckResult:
    """The check with its points, by the kind of grader that made it (a spec's function: its declared points)."""
    if points is not None:
        return score_declared(result, points)
    return SCORERS[kind](result, rubric)


def totals(checks: Sequence[CheckResult]) -> tuple[float, float]:
    """The submission's score and maximum score."""
    return round(sum(check.points for check in checks), 6), round(sum(check.max_points for check in checks), 6)
