"""The mutation reports: the mutation/v1 JSON contract, Stryker's schema, the HTML page, and the CLI's exit codes."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from grader import assignments, cli
from grader.mutation import judge
from grader.report import mutation as mutation_report
from grader.mutation.records import MutantStatus

REFERENCE_FILE = Path(assignments.get("three_layer").module.__file__)

# The parts of mutation-testing-report-schema (schemaVersion 1) that a report must have.
STRYKER_SCHEMA = {
    "type": "object",
    "required": ["schemaVersion", "thresholds", "files"],
    "properties": {
        "schemaVersion": {"type": "string", "pattern": r"^([1-2])(\.(([1-9]\d*)|0)){0,2}$"},
        "thresholds": {"type": "object", "required": ["high", "low"],
                       "properties": {"high": {"type": "integer", "minimum": 0, "maximum": 100},
                                      "low": {"type": "integer", "minimum": 0, "maximum": 100}}},
        "files": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["language", "source", "mutants"],
            "properties": {"language": {"type": "string"}, "source": {"type": "string"},
                           "mutants": {"type": "array", "items": {
                               "type": "object", "required": ["id", "mutatorName", "location", "status"],
                               "properties": {
                                   "id": {"type": "string"}, "mutatorName": {"type": "string"},
                                   "replacement": {"type": "string"}, "description": {"type": "string"},
                                   "statusReason": {"type": "string"},
                                   "status": {"enum": ["Killed", "Survived", "NoCoverage", "CompileError",
                                                       "RuntimeError", "Timeout", "Ignored", "Pending"]},
                                   "location": {"$ref": "#/definitions/location"}}}}}}},
    },
    "definitions": {
        "position": {"type": "object", "required": ["line", "column"],
                     "properties": {"line": {"type": "integer", "minimum": 1},
                                    "column": {"type": "integer", "minimum": 1}}},
        "location": {"type": "object", "required": ["start", "end"],
                     "properties": {"start": {"$ref": "#/definitions/position"},
                                    "end": {"$ref": "#/definitions/position"}}},
    },
}


@pytest.fixture(scope="module")
def run():
    return judge.run(assignments.get("three_layer").module)


def test_json_follows_the_mutation_v1_contract(run):
    report = json.loads(mutation_report.json_text(run))
    assert report["schema"] == "gradgrade/mutation/v1"
    assert report["assignment"] == "three_layer"
    assert set(report["reference"]) >= {"status", "difference"} and report["reference"]["status"] == "pass"
    assert isinstance(report["score"], float) and report["score"] == 1.0
    assert len(report["mutants"]) == len(run.mutants)
    for mutant in report["mutants"]:
        assert {"id", "operator", "status", "difference", "parameters", "line"} <= set(mutant)
        assert mutant["status"] in {status.value for status in MutantStatus}


def test_stryker_report_has_every_required_field(run):
    report = mutation_report.stryker(run)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(report, STRYKER_SCHEMA)
    (path, file), = report["files"].items()
    assert path == "mutants/three_layer/reference.py" and file["language"] == "python"
    lines = file["source"].splitlines()
    for mutant in file["mutants"]:
        start, end = mutant["location"]["start"], mutant["location"]["end"]
        if start["line"] == end["line"]:
            assert lines[start["line"] - 1][start["column"] - 1:end["column"] - 1] == \
                next(r.original for r in run.mutants if r.id == mutant["id"])


def test_stryker_report_is_rejected_by_the_schema_when_a_field_is_missing(run):
    jsonschema = pytest.importorskip("jsonschema")
    report = mutation_report.stryker(run)
    del next(iter(report["files"].values()))["mutants"][0]["location"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, STRYKER_SCHEMA)


def test_stryker_statuses_map_every_mutant_status():
    assert set(mutation_report.STRYKER_STATUS) == set(MutantStatus)


def test_html_marks_each_mutated_line_and_filters_by_status_without_javascript(run):
    page = mutation_report.html(run)
    assert "<script" not in page
    assert "gradgrade" in page and "<!DOCTYPE html>" in page
    for record in run.mutants:
        assert f'id="mutant-{record.id}"' in page
    mutated_lines = {record.line for record in run.mutants}
    marked = {int(number) for number in re.findall(r'<tr id="line-(\d+)" class="mutated', page)}
    assert marked == mutated_lines
    for status in {record.status.value for record in run.mutants}:
        assert f'id="show-{status}"' in page and f"#show-{status}:not(:checked) ~ section .status-{status}" in page


def test_html_escapes_the_source(run):
    page = mutation_report.html(run)
    assert "A2 &gt; 0" in page and "A2 > 0" not in page


def test_text_report_ends_with_the_verdict(run):
    report = mutation_report.text(run)
    assert report.splitlines()[-1] == "PASS"
    assert "canary caught" in report and "scale-quadruple-m-6" in report


def test_mutation_test_passes_on_the_reference_and_writes_the_reports(tmp_path, capsys):
    html, stryker = tmp_path / "m.html", tmp_path / "s.json"
    assert cli.main(["mutation-test", "--format", "json", "--html", str(html), "--stryker", str(stryker)]) == 0
    assert json.loads(capsys.readouterr().out)["reference"]["status"] == "pass"
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert json.loads(stryker.read_text())["schemaVersion"] == "1"


def test_mutation_test_exits_1_on_a_broken_reference(tmp_path, capsys):
    source = REFERENCE_FILE.read_text()
    correct = "    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)"
    assert correct in source
    broken = tmp_path / "broken_three_layer.py"
    broken.write_text(source.replace(correct, correct.replace("1.0 / m", "2.0 / m")))
    assert cli.main(["mutation-test", "--reference", str(broken), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["reference"]["status"] == "fail"
    assert report["passed"] is False


def test_a_surviving_mutant_fails_the_run(run):
    survivor = dataclasses.replace(run.mutants[0], status=MutantStatus.SURVIVED)
    weakened = dataclasses.replace(run, mutants=(survivor,) + run.mutants[1:])
    assert not weakened.passed
    assert "survived (the checker misses them): " + survivor.id in mutation_report.text(weakened)


@pytest.mark.parametrize("argv", [
    pytest.param(["mutation-test", "--reference", "/no/such/reference.py"], id="missing-reference"),
    pytest.param(["mutation-test", "--assignment", "nope"], id="unknown-assignment"),
])
def test_mutation_test_usage_errors_exit_2_with_one_line(argv, capsys):
    assert cli.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("gradgrade:") and "\n" not in error
