"""Late work: submission times from nbgrader, Blackboard, Canvas and file times; the policy's penalty."""
from __future__ import annotations

import os
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from grader.grading import late
from grader.batch.entries import Submission
from grader.grading.late import Count, LatePolicy, LatePolicyError, Period, Unit
from grader.results import LateStatus

DUE = datetime(2026, 3, 1, 23, 59, tzinfo=timezone.utc)
# 0.2 of the maximum score per started day, at most 0.3, 15 minutes' grace.
POLICY = LatePolicy(per=Period.DAY, penalty=0.2, unit=Unit.FRACTION, cap=0.3, grace_minutes=15)


def _at(**delta) -> late.Submitted:
    return late.Submitted(DUE + timedelta(**delta), late.Source.NBGRADER)


@pytest.mark.parametrize("when, status, penalty", [
    pytest.param(_at(hours=-3), LateStatus.ON_TIME, 0.0, id="on-time"),
    pytest.param(_at(seconds=0), LateStatus.ON_TIME, 0.0, id="at-the-due-second"),
    pytest.param(_at(minutes=10), LateStatus.GRACE, 0.0, id="within-grace"),
    pytest.param(_at(minutes=15), LateStatus.GRACE, 0.0, id="at-the-end-of-grace"),
    pytest.param(_at(minutes=16), LateStatus.LATE, 2.0, id="just-past-grace-one-started-day"),
    pytest.param(_at(days=1, hours=12), LateStatus.LATE, 3.0, id="1.5-days-capped-at-0.3"),
])
def test_the_policy_on_time_within_grace_and_late_with_a_cap(when, status, penalty):
    found = late.lateness(when, due=DUE, policy=POLICY, max_score=10.0)
    assert found.status is status and found.penalty == pytest.approx(penalty)
    assert found.submitted == when.at.isoformat(timespec="seconds") and found.source == "nbgrader timestamp.txt"


def test_late_by_one_and_a_half_days_without_a_cap_takes_two_started_days_or_their_exact_share():
    when = _at(days=1, hours=12)
    points = LatePolicy(per=Period.DAY, penalty=1.5, unit=Unit.POINTS)
    assert late.lateness(when, due=DUE, policy=points, max_score=10.0).penalty == 3.0
    exact = LatePolicy(per=Period.DAY, penalty=1.5, unit=Unit.POINTS, count=Count.EXACT)
    assert late.lateness(when, due=DUE, policy=exact, max_score=10.0).penalty == pytest.approx(2.25)
    hourly = LatePolicy(per=Period.HOUR, penalty=0.01, unit=Unit.FRACTION, cap=0.5)
    assert late.lateness(when, due=DUE, policy=hourly, max_score=10.0).penalty == pytest.approx(3.6)


@given(st.floats(min_value=1, max_value=30 * 86400), st.floats(min_value=0, max_value=5))
def test_a_penalty_never_passes_its_cap_and_grows_with_lateness(seconds, penalty):
    policy = LatePolicy(per=Period.HOUR, penalty=penalty, unit=Unit.POINTS, cap=4.0)
    taken = policy.penalty_points(seconds, max_score=10.0)
    assert 0 <= taken <= 4.0
    assert policy.penalty_points(seconds + 3600, max_score=10.0) >= taken


def test_canvas_late_without_a_time_is_marked_late_and_says_no_penalty_was_applied():
    found = late.lateness(late.Submitted(None, late.Source.NONE, marked_late=True), due=DUE, policy=POLICY,
                          max_score=10.0)
    assert found.status is LateStatus.LATE and found.penalty == 0 and found.seconds_late is None
    assert "no late penalty was applied" in found.note and found.source == "Canvas LATE marker"


def test_no_policy_marks_lateness_without_a_penalty_and_no_time_is_said():
    found = late.lateness(_at(days=2), due=DUE, policy=None, max_score=10.0)
    assert found.status is LateStatus.LATE and found.penalty == 0 and "no [late] table" in found.note
    unknown = late.lateness(late.Submitted(), due=DUE, policy=POLICY, max_score=10.0)
    assert unknown.status is LateStatus.UNKNOWN and "no submission time found" in unknown.note
    assert late.lateness(late.Submitted(), due=None, policy=POLICY, max_score=10.0) is None


@pytest.mark.parametrize("text, expected", [
    pytest.param("2026-03-01 10:20:30.123456 UTC", datetime(2026, 3, 1, 10, 20, 30, 123456, timezone.utc),
                 id="nbgrader-default"),
    pytest.param("2026-03-01 10:20:30 UTC\n", datetime(2026, 3, 1, 10, 20, 30, tzinfo=timezone.utc),
                 id="older-nbgrader-no-fraction"),
    pytest.param("2026-03-01T10:20:30+01:00", datetime(2026, 3, 1, 9, 20, 30, tzinfo=timezone.utc), id="iso"),
    pytest.param("2026-03-01 11:20:30.5 Europe/Berlin", datetime(2026, 3, 1, 10, 20, 30, 500000, timezone.utc),
                 id="a-zone-name"),
])
def test_nbgrader_timestamps_are_read(text, expected):
    found, note = late.parse_timestamp(text)
    assert found == expected and note == ""


def test_an_unknown_zone_is_read_as_local_time_and_said():
    found, note = late.parse_timestamp("2026-03-01 10:20:30 XYZT")
    assert found.replace(tzinfo=None) == datetime(2026, 3, 1, 10, 20, 30) and "'XYZT' is unknown" in note


def _nbgrader(tmp_path: Path, stamp: bytes | None) -> Submission:
    folder = tmp_path / "submitted" / "alice" / "ps1"
    folder.mkdir(parents=True)
    (folder / "gc.ipynb").write_text("{}")
    if stamp is not None:
        (folder / "timestamp.txt").write_bytes(stamp)
    return Submission("alice", "gc.ipynb", folder / "gc.ipynb")


def test_the_time_comes_from_nbgrader_timestamp_txt(tmp_path):
    found = late.submitted(_nbgrader(tmp_path, b"2026-03-02 08:00:00.000000 UTC\n"))
    assert found.source is late.Source.NBGRADER and found.at == datetime(2026, 3, 2, 8, tzinfo=timezone.utc)


def test_a_timestamp_txt_that_is_no_time_is_said_and_not_used(tmp_path):
    found = late.submitted(_nbgrader(tmp_path, b"yesterday, I think"))
    assert found.at is None and "which is no time" in found.note


def test_the_time_comes_from_timestamp_txt_inside_a_zip(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("submitted/bob/ps1/gc.ipynb", "{}")
        zipped.writestr("submitted/bob/ps1/timestamp.txt", "2026-03-01 12:00:00 UTC")
    found = late.submitted(Submission("bob", "gc.ipynb", archive, "submitted/bob/ps1/gc.ipynb"))
    assert found.at == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def test_a_flat_class_with_a_timestamp_txt_beside_it_takes_no_time_from_it(tmp_path):
    (tmp_path / "timestamp.txt").write_text("2026-03-01 12:00:00 UTC")
    (tmp_path / "alice.py").write_text("x = 1\n")
    assert late.submitted(Submission("alice", "alice.py", tmp_path / "alice.py")).at is None


def test_blackboard_attempt_dates_and_canvas_late_markers_are_read():
    blackboard = Submission("jdoe", "Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb", Path("x"))
    found = late.submitted(blackboard)
    assert found.source is late.Source.BLACKBOARD and found.at.replace(tzinfo=None) == datetime(2026, 3, 1, 10, 20, 30)
    canvas = late.submitted(Submission("doejane_1234", "doejane_LATE_1234_56789_gc.ipynb", Path("x")))
    assert canvas.marked_late and canvas.at is None
    assert not late.submitted(Submission("doejane_1234", "doejane_1234_56789_gc.ipynb", Path("x"))).marked_late


def test_the_file_time_is_used_only_when_asked(tmp_path):
    path = tmp_path / "alice.py"
    path.write_text("x = 1\n")
    stamp = DUE.timestamp() + 7200
    os.utime(path, (stamp, stamp))
    submission = Submission("alice", "alice.py", path)
    assert late.submitted(submission).at is None
    found = late.submitted(submission, late_from=late.LateFrom.MTIME)
    assert found.source is late.Source.MTIME and found.at == DUE + timedelta(hours=2)


@pytest.mark.parametrize("table, words", [
    pytest.param({"per": "week"}, "late.per must be one of 'hour', 'day'", id="bad-period"),
    pytest.param({"penalty": -1}, "late.penalty must be a number of at least 0", id="negative"),
    pytest.param({"penalty": 2}, "late.penalty is a fraction", id="fraction-above-one"),
    pytest.param({"grace": 5}, "unknown key late.grace", id="unknown-key"),
    pytest.param({"cap": "half"}, "late.cap must be a number", id="not-a-number"),
])
def test_a_wrong_late_table_names_the_key_the_instructor_wrote(table, words):
    with pytest.raises(LatePolicyError, match=words.replace("(", r"\(").replace(".", r"\.")):
        late.policy_from_table(table)


def test_a_late_table_in_points():
    policy = late.policy_from_table({"per": "hour", "penalty": 1, "unit": "points", "cap": 5, "grace_minutes": 10})
    assert policy == LatePolicy(Period.HOUR, 1.0, Unit.POINTS, 5.0, 10.0)


def test_due_times_with_and_without_a_zone():
    assert late.parse_due("2026-03-01T23:59:00Z") == DUE
    assert late.parse_due("2026-03-01T23:59").tzinfo is not None
    with pytest.raises(LatePolicyError, match="not an ISO 8601"):
        late.parse_due("next friday")
