"""Overrides: kept in the gradebook with who and when, applied on every rerun and --force, shown, removable."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from grader import assignments, cli
from grader.batch import batch, gradebook, overrides
from grader.settings import Settings

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


@pytest.fixture
def graded(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
    (folder / "bob.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
    out = tmp_path / "out"
    batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    return folder, out


def _rows(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


def test_an_override_survives_two_reruns_and_a_force(graded):
    folder, out = graded
    made = overrides.set_override(out, "alice", points=8.5, comment="regrade request: mask was right", by="prof")
    assert made.by == "prof" and made.at.endswith("+00:00")
    for force in (False, False, True):
        summary = batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1, force=force)
        alice = {result.submission: result for result in summary.results}["alice"]
        assert alice.final == 8.5 and alice.score == 4.0  # the automatic score stays visible
        row = _rows(out)["alice"]
        assert (row["score"], row["final_score"]) == ("4", "8.5") and "regrade request" in row["override"]
        page = (out / summary.pages["alice"]).read_text()
        assert "regrade request: mask was right" in page and "final score <strong>8.5</strong>" in page
        document = {d["submission"]: d for d in json.loads((out / "results.json").read_text())}["alice"]
        assert document["final_score"] == 8.5 and document["overrides"][0]["by"] == "prof"
    assert summary.graded == 2  # the --force regraded, and kept the override


def test_an_override_of_one_check_replaces_its_points_and_clearing_it_restores_the_score(graded):
    folder, out = graded
    overrides.set_override(out, "alice", points=6, check="backward_propagation_n", comment="partial credit")
    alice = {r.submission: r for r in batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1).results}["alice"]
    assert alice.final == 6.0 and alice.check("backward_propagation_n").points == 4.0
    assert overrides.clear_override(out, "alice", check="backward_propagation_n") == 1
    alice = {r.submission: r for r in batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1).results}["alice"]
    assert alice.final == alice.score == 4.0 and alice.overrides == ()


def test_the_override_command_writes_the_reports_again_at_once(graded, capsys):
    _, out = graded
    assert cli.main(["override", str(out), "bob", "--points", "7", "--comment", "copied", "--by", "ta"]) == 0
    assert "bob: score set to 7 by ta" in capsys.readouterr().out
    assert _rows(out)["bob"]["final_score"] == "7"
    assert cli.main(["override", str(out), "bob", "--clear"]) == 0
    assert _rows(out)["bob"]["final_score"] == "10"


@pytest.mark.parametrize("argv, words", [
    pytest.param(["nobody", "--points", "1"], "'nobody' is not in the gradebook", id="unknown-student"),
    pytest.param(["alice", "--points", "1", "--check", "nope"], "has no check 'nope'", id="unknown-check"),
    pytest.param(["alice", "--points", "-1"], "--points must be at least 0", id="negative"),
    pytest.param(["alice"], "needs --points", id="no-points"),
])
def test_an_override_that_cannot_be_made_is_one_line_and_exit_2(graded, capsys, argv, words):
    _, out = graded
    assert cli.main(["override", str(out), *argv]) == 2
    error = capsys.readouterr().err
    assert words in error and error.count("\n") == 1


def test_an_override_needs_a_gradebook(tmp_path, capsys):
    assert cli.main(["override", str(tmp_path), "alice", "--points", "1"]) == 2
    assert "no gradebook here" in capsys.readouterr().err
    assert not (tmp_path / gradebook.FILENAME).exists()


def test_the_user_is_who_set_it_by_default(graded):
    _, out = graded
    assert overrides.set_override(out, "bob", points=1).by == overrides.operator_name() != ""
