"""LMS export: each format read back with the csv module, with the header rows its LMS expects."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from grader import assignments, cli
from grader.batch import batch, export, overrides, reports
from grader.grading import late
from grader.grading.late import LatePolicy, Period, Unit
from grader.settings import Settings
from grader.batch.student_ids import IdPattern

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


@pytest.fixture(scope="module")
def canvas_class(tmp_path_factory):
    """A Canvas download: one on time, one LATE (no time in the name), graded with a due time and an override."""
    root = tmp_path_factory.mktemp("canvas")
    folder = root / "submissions"
    folder.mkdir()
    (folder / "doejane_1234_56789_gc.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
    (folder / "smithbob_LATE_2345_67890_gc.py").write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
    out = root / "out"
    rules = late.LateRules(due=late.parse_due("2026-03-01T23:59Z"), policy=LatePolicy(Period.DAY, 0.1, Unit.FRACTION))
    batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1, id_pattern=IdPattern.parse("canvas"), late_rules=rules)
    overrides.set_override(out, "smithbob_2345", points=5, comment="regrade request", by="prof")
    reports.refresh(out)
    return out


def test_canvas_export_has_canvas_columns_the_points_possible_row_and_final_scores(canvas_class, tmp_path):
    target = tmp_path / "canvas.csv"
    assert cli.main(["export", str(canvas_class), "--to", "canvas", "--out", str(target),
                     "--column", "Gradient checking (4321)"]) == 0
    rows = list(csv.reader(io.StringIO(target.read_text(), newline="")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Gradient checking (4321)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "10"
    assert rows[2:] == [["doejane", "1234", "", "", "", "10"], ["smithbob", "2345", "", "", "", "5"]]


def test_moodle_export_is_the_grading_worksheet_keyed_by_participant(canvas_class, capsys):
    assert cli.main(["export", str(canvas_class), "--to", "moodle"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert {"Identifier", "Grade", "Last modified (grade)"} <= set(rows[0])  # what Moodle's upload requires
    assert [(row["Identifier"], row["Full name"], row["Grade"], row["Maximum Grade"]) for row in rows] == [
        ("Participant 1234", "doejane", "10", "10"), ("Participant 2345", "smithbob", "5", "10")]
    assert "set to 5 by prof: regrade request" in rows[1]["Feedback comments"]


def test_csv_export_has_the_final_and_the_automatic_score(canvas_class, capsys):
    assert cli.main(["export", str(canvas_class), "--to", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["student"], row["final_score"], row["score"]) for row in rows] == [
        ("doejane_1234", "10", "10"), ("smithbob_2345", "5", "4")]


def test_a_late_penalty_reaches_the_export(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    name = "Gradient Checking_jlee_attempt_2026-03-03-12-00-00_gc.py"
    (folder / name).write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
    rules = late.LateRules(due=late.parse_due("2026-03-01T23:59"), policy=LatePolicy(Period.DAY, 0.1, Unit.FRACTION))
    batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1, id_pattern=IdPattern.parse("blackboard"),
                late_rules=rules)
    made = export.export(export.read_results(tmp_path / "out"), export.Target.CSV)
    row = next(csv.DictReader(io.StringIO(made.text)))
    assert (row["student"], row["score"], row["late_penalty"], row["final_score"]) == ("jlee", "10", "2", "8")


def test_students_without_an_lms_number_keep_a_row_and_are_named(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
    batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert cli.main(["export", str(tmp_path / "out"), "--to", "canvas"]) == 0
    captured = capsys.readouterr()
    assert list(csv.reader(io.StringIO(captured.out)))[2] == ["alice", "", "", "", "", "4"]
    assert "1 student(s) have no canvas number" in captured.err and "alice" in captured.err


def test_exporting_an_ungraded_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path), "--to", "csv"]) == 2
    assert "no such file; grade the class" in capsys.readouterr().err
