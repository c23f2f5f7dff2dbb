"""Late work: when each submission came in, how late it is against the due time, and the rubric's penalty.

The submission time is read, in this order, from nbgrader's `submitted/<student>/<assignment>/timestamp.txt`,
from a Blackboard download's attempt date (`..._attempt_2026-03-01-10-20-30_...`), and only when the
instructor asks (`--late-from mtime`) from the file's modification time, which a download or a copy resets.
Canvas writes no time into its download names, only `LATE` (`doejane_LATE_1234_56789_gc.ipynb`): such a
submission is marked late, and the policy is applied only when a time is known too.

The rubric's `[late]` table is the policy (see README, "Late work"):

    [late]
    per = "day"            # or "hour": the penalty is taken per day (or hour) late
    penalty = 0.1          # taken per period
    unit = "fraction"      # of the maximum score; or "points"
    cap = 0.3              # the most taken in all, in the same unit (none by default)
    grace_minutes = 15     # up to this late counts as on time (0 by default)
    count = "started"      # a started period counts whole; "exact" takes its share
"""
from __future__ import annotations

import math
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.results import Lateness, LateStatus

TIMESTAMP_FILE = "timestamp.txt"
NBGRADER_ROOT = "submitted"
TIMESTAMP_BYTES = 200  # nbgrader writes one short line; anything longer is not its timestamp
CANVAS_LATE = re.compile(r"^[^_]+_LATE_\d+_\d+_")
BLACKBOARD_ATTEMPT = re.compile(r"_attempt_(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})(?:_|\.|$)")
UTC_NAMES = frozenset({"UTC", "GMT", "Z"})


class LatePolicyError(ValueError):
    """A [late] table or a --due that cannot be used; the message is one line naming what the instructor wrote."""


class Source(str, Enum):
    """Where a submission's time was read."""

    NBGRADER = "nbgrader timestamp.txt"
    BLACKBOARD = "Blackboard attempt date"
    MTIME = "file modification time"
    NONE = ""


class LateFrom(str, Enum):
    """Which times count (`--late-from`): the LMS's own records, or also the file's modification time."""

    AUTO = "auto"
    MTIME = "mtime"


class Period(str, Enum):
    HOUR = "hour"
    DAY = "day"


class Unit(str, Enum):
    POINTS = "points"
    FRACTION = "fraction"


class Count(str, Enum):
    STARTED = "started"
    EXACT = "exact"


PERIOD_SECONDS = {Period.HOUR: 3600.0, Period.DAY: 86400.0}


@dataclass(frozen=True)
class LatePolicy:
    """The rubric's [late] table: a penalty per hour or day late, as points or a fraction of the maximum
    score, at most cap in all, nothing within the grace period."""

    per: Period = Period.DAY
    penalty: float = 0.0
    unit: Unit = Unit.FRACTION
    cap: float | None = None
    grace_minutes: float = 0.0
    count: Count = Count.STARTED

    def __post_init__(self) -> None:
        for name in ("penalty", "cap", "grace_minutes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise LatePolicyError(f"rubric: late.{name} must be a number of at least 0, got {value!r}")
        if self.unit is Unit.FRACTION:
            for name in ("penalty", "cap"):
                value = getattr(self, name)
                if value is not None and value > 1:
                    raise LatePolicyError(f"rubric: late.{name} is a fraction of the maximum score (late.unit = "
                                          f"\"fraction\"), so at most 1, got {value}")

    def penalty_points(self, seconds_late: float, *, max_score: float) -> float:
        """The points taken from a submission seconds_late past the due time (past the grace period)."""
        periods = seconds_late / PERIOD_SECONDS[self.per]
        if self.count is Count.STARTED:
            periods = math.ceil(periods - 1e-9)
        scale = max_score if self.unit is Unit.FRACTION else 1.0
        taken = self.penalty * periods * scale
        if self.cap is not None:
            taken = min(taken, self.cap * scale)
        return round(taken, 6)

    def describe(self) -> str:
        """The policy in one line, for pages and notes."""
        amount = f"{self.penalty:g} point(s)" if self.unit is Unit.POINTS else f"{100 * self.penalty:g}%"
        cap = "" if self.cap is None else (f", at most {self.cap:g} point(s)" if self.unit is Unit.POINTS
                                           else f", at most {100 * self.cap:g}%")
        grace = f", {self.grace_minutes:g} minute(s) grace" if self.grace_minutes else ""
        started = " (a started one counts whole)" if self.count is Count.STARTED else ""
        return f"{amount} per {self.per.value} late{started}{cap}{grace}"


_ENUMS = {"per": Period, "unit": Unit, "count": Count}


def policy_from_table(table: Any) -> LatePolicy:
    """The LatePolicy of a rubric's [late] table; LatePolicyError naming the key (`late.per`) when it is wrong."""
    if not isinstance(table, Mapping):
        raise LatePolicyError("rubric: 'late' must be a table like [late]")
    values: dict[str, Any] = {}
    known = ("per", "penalty", "unit", "cap", "grace_minutes", "count")
    for key, value in table.items():
        if key not in known:
            raise LatePolicyError(f"rubric: unknown key late.{key} (known: {', '.join('late.' + k for k in known)})")
        if key in _ENUMS:
            choices = [member.value for member in _ENUMS[key]]
            if value not in choices:
                raise LatePolicyError(f"rubric: late.{key} must be one of {', '.join(map(repr, choices))}, got {value!r}")
            value = _ENUMS[key](value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[key] = value
    return LatePolicy(**values)


def parse_due(text: str) -> datetime:
    """A due time in ISO 8601 (`2026-03-01T23:59`, `2026-03-01 23:59:00+01:00`, `...Z`), a time without a zone
    read as the machine's local time; LatePolicyError when it is none."""
    try:
        due = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LatePolicyError(f"--due {text!r} is not an ISO 8601 date and time (like 2026-03-01T23:59 or "
                              "2026-03-01T23:59:00+01:00)") from None
    return due if due.tzinfo is not None else due.astimezone()


def parse_timestamp(text: str) -> tuple[datetime, str]:
    """An nbgrader timestamp (`2026-03-01 10:20:30.123456 UTC`, its default format `%Y-%m-%d %H:%M:%S.%f %Z`;
    older ones lack the fraction; ISO 8601 too) and a note when its zone was not understood (then read as
    the machine's local time). ValueError when it is no time at all."""
    text = text.strip()
    try:
        found = datetime.fromisoformat(text)
        return (found if found.tzinfo else found.astimezone()), ""
    except ValueError:
        pass
    stamp, _, zone = text.rpartition(" ")
    found = datetime.fromisoformat(stamp)  # ValueError when it is no timestamp
    if found.tzinfo is not None:
        return found, ""
    if zone.upper() in UTC_NAMES:
        return found.replace(tzinfo=timezone.utc), ""
    try:
        return found.replace(tzinfo=ZoneInfo(zone)), ""
    except (ZoneInfoNotFoundError, ValueError):
        return found.astimezone(), f"timestamp.txt's time zone {zone!r} is unknown: read as local time"


@dataclass(frozen=True)
class Submitted:
    """When a submission came in, as far as its files say, and whether the LMS marked it late."""

    at: datetime | None = None
    source: Source = Source.NONE
    marked_late: bool = False
    note: str = ""


def _nbgrader_timestamp(parts: tuple[str, ...]) -> tuple[str, ...] | None:
    """The parts of `submitted/<student>/<assignment>/timestamp.txt` for a file under that assignment folder."""
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == NBGRADER_ROOT and len(parts) > index + 3:
            return (*parts[:index + 3], TIMESTAMP_FILE)
    return None


def _read_timestamp(submission: Any, archive: zipfile.ZipFile | None) -> tuple[bytes | None, str]:
    """The bytes of the submission's nbgrader timestamp.txt (None when there is none), and where it is;
    archive: the submission's zip, opened once for the whole class."""
    if submission.member is None:
        found = _nbgrader_timestamp(Path(submission.path).parts)
        if found is None:
            return None, ""
        path = Path(*found)
        try:
            with open(path, "rb") as handle:
                return handle.read(TIMESTAMP_BYTES + 1), str(path)
        except FileNotFoundError:
            return None, ""
        except OSError as error:
            return b"", f"{path}: {error.strerror or error}"
    found = _nbgrader_timestamp(PurePosixPath(submission.member).parts)
    if found is None:
        return None, ""
    member = "/".join(found)
    if archive is None:
        return b"", f"{member}: the zip could not be opened"
    try:
        with archive.open(member) as handle:
            return handle.read(TIMESTAMP_BYTES + 1), member
    except KeyError:
        return None, ""
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError, NotImplementedError) as error:
        return b"", f"{member}: {error}"


def _modified(submission: Any, archive: zipfile.ZipFile | None) -> datetime | None:
    if submission.member is None:
        try:
            return datetime.fromtimestamp(os.stat(submission.path).st_mtime, tz=timezone.utc)
        except OSError:
            return None
    try:
        return datetime(*archive.getinfo(submission.member).date_time).astimezone() if archive else None
    except (KeyError, ValueError):
        return None


def submitted(submission: Any, *, late_from: LateFrom = LateFrom.AUTO) -> Submitted:
    """When an entries.Submission came in: nbgrader's timestamp.txt, then a Blackboard attempt date, then
    (late_from mtime only) the file's modification time; with Canvas's LATE marker noted either way."""
    return submitted_all([submission], late_from=late_from)[submission.student]


def _submitted(submission: Any, late_from: LateFrom, archive: zipfile.ZipFile | None) -> Submitted:
    marked = bool(CANVAS_LATE.match(submission.filename))
    data, where = _read_timestamp(submission, archive)
    note = ""
    if data is not None:
        text = data.decode("utf-8", "replace")
        if len(data) > TIMESTAMP_BYTES or not text.strip():
            note = f"{TIMESTAMP_FILE} is not a timestamp ({where or 'unreadable'}): its time is not used"
        else:
            try:
                at, zone_note = parse_timestamp(text)
                return Submitted(at, Source.NBGRADER, marked, zone_note)
            except ValueError:
                note = f"{TIMESTAMP_FILE} says {text.strip()[:60]!r}, which is no time: not used"
    attempt = BLACKBOARD_ATTEMPT.search(submission.filename)
    if attempt:
        try:
            at = datetime(*map(int, attempt.groups())).astimezone()
            return Submitted(at, Source.BLACKBOARD, marked, note)
        except ValueError:
            note = "; ".join(filter(None, (note, f"the attempt date in {submission.filename} is no date: not used")))
    if late_from is LateFrom.MTIME:
        at = _modified(submission, archive)
        if at is not None:
            return Submitted(at, Source.MTIME, marked, note)
    return Submitted(None, Source.NONE, marked, note)


def submitted_all(submissions: Iterable[Any], *, late_from: LateFrom = LateFrom.AUTO) -> dict[str, Submitted]:
    """submitted() of each submission, by student, each zip opened once for all its members (a class zip of
    thousands of nbgrader folders would otherwise read its directory once per student)."""
    found: dict[str, Submitted] = {}
    in_zips: dict[Path, list[Any]] = {}
    for submission in submissions:
        if submission.member is None:
            found[submission.student] = _submitted(submission, late_from, None)
        else:
            in_zips.setdefault(Path(submission.path), []).append(submission)
    for path, members in in_zips.items():
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError):
            archive = None
        try:
            for submission in members:
                found[submission.student] = _submitted(submission, late_from, archive)
        finally:
            if archive is not None:
                archive.close()
    return found


def _shown(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def lateness(when: Submitted, *, due: datetime | None, policy: LatePolicy | None,
             max_score: float) -> Lateness | None:
    """How late a submission is and the points its lateness costs; None when there is nothing to say (no due
    time, no submission time, no LATE marker)."""
    notes = [when.note] if when.note else []
    if due is None and when.at is None and not when.marked_late:
        return None if not notes else Lateness(LateStatus.UNKNOWN, None, when.source.value, None, None, 0.0,
                                               "; ".join(notes))
    if when.at is None:
        if when.marked_late:
            notes.append("Canvas marked it LATE but its download gives no time, so no late penalty was applied")
            return Lateness(LateStatus.LATE, None, "Canvas LATE marker", _shown(due), None, 0.0, "; ".join(notes))
        notes.append("no submission time found (no nbgrader timestamp.txt, no Blackboard attempt date; "
                     "--late-from mtime reads the file's modification time)")
        return Lateness(LateStatus.UNKNOWN, None, "", _shown(due), None, 0.0, "; ".join(notes))
    source = when.source.value + (" and Canvas LATE marker" if when.marked_late else "")
    if due is None:
        notes.append("no due time given (--due), so lateness was not judged")
        status = LateStatus.LATE if when.marked_late else LateStatus.UNKNOWN
        return Lateness(status, _shown(when.at), source, None, None, 0.0, "; ".join(notes))
    seconds = (when.at - due).total_seconds()
    grace = 60.0 * (policy.grace_minutes if policy else 0.0)
    if seconds <= 0:
        if when.marked_late:
            notes.append(f"Canvas marked it LATE, but the {when.source.value} is before the due time")
        return Lateness(LateStatus.ON_TIME, _shown(when.at), source, _shown(due), 0.0, 0.0, "; ".join(notes))
    if seconds <= grace:
        notes.append(f"within the {policy.grace_minutes:g}-minute grace period: no penalty")
        return Lateness(LateStatus.GRACE, _shown(when.at), source, _shown(due), seconds, 0.0, "; ".join(notes))
    if policy is None:
        notes.append("the rubric has no [late] table, so no late penalty was applied")
        penalty = 0.0
    else:
        penalty = policy.penalty_points(seconds, max_score=max_score)
        notes.append(f"late policy: {policy.describe()}")
    return Lateness(LateStatus.LATE, _shown(when.at), source, _shown(due), seconds, penalty, "; ".join(notes))


def late_by(seconds: float | None) -> str:
    """How late, for a person: `1 d 12 h`, `3 h 5 min`, `40 min`, or "" when not late or unknown."""
    if not seconds or seconds <= 0:
        return ""
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(minutes, 1)} min"


@dataclass(frozen=True)
class LateRules:
    """What judges lateness in a batch: the due time (`--due`), the rubric's [late] policy, which times count."""

    due: datetime | None = None
    policy: LatePolicy | None = None
    late_from: LateFrom = LateFrom.AUTO


__all__ = ["LateRules", "LatePolicy", "LatePolicyError", "LateFrom", "Source", "Submitted", "policy_from_table",
           "parse_due", "parse_timestamp", "submitted", "submitted_all", "lateness", "late_by"]
