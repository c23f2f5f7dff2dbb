"""docs/assignments.md: every spec it shows loads and screens healthy, and it covers every kind and every field."""
import dataclasses
import json
import re
from pathlib import Path

import pytest

from grader import assignments, cli
from grader import spec as api

DOC = Path(__file__).resolve().parents[2] / "docs" / "assignments.md"
SPECS = [body for body in re.findall(r"^```python\n(.*?)^```$", DOC.read_text(), re.S | re.M) if "SPEC = Spec(" in body]


def test_the_guide_shows_a_spec_of_every_kind():
    shown = {kind.__name__ for kind in api.KINDS for body in SPECS if f"{kind.__name__}(" in body}
    assert shown == {kind.__name__ for kind in api.KINDS}


def test_the_guide_names_every_field_of_the_api():
    text = DOC.read_text()
    for record in (api.Spec, api.Case, *api.KINDS):
        for field in dataclasses.fields(record):
            if field.name != "profile":  # set by gradgrade, not by the instructor
                assert re.search(rf"\b{field.name}\b", text), f"{record.__name__}.{field.name}"


def _name(body: str) -> str:
    return re.search(r'name="(\w+)"', body)[1]


@pytest.mark.parametrize("body", SPECS, ids=_name)
def test_each_spec_shown_loads_and_screens_healthy(body, tmp_path):
    path = tmp_path / f"{_name(body)}.py"
    path.write_text(body)
    found = assignments.ready(str(path))
    assert found.spec_cases("course")


@pytest.mark.parametrize("body", SPECS, ids=_name)
def test_each_spec_shown_passes_the_mutation_test(body, tmp_path, capsys):
    path = tmp_path / f"{_name(body)}.py"
    path.write_text(body)
    code = cli.main(["mutation-test", "--assignment", str(path), "--format", "json"])
    run = json.loads(capsys.readouterr().out)
    assert code == 0, [mutant for mutant in run["mutants"] if mutant["status"] == "survived"]
