"""The mutation engine on the course network: the reference passes, every non-equivalent mutant is caught."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from grader import assignments, cli
from grader.mutation import catalogue, judge, plant
from grader.mutation.records import MutantStatus
from grader.mutation.operators.registry import Example, Operator

THREE_LAYER = assignments.get("three_layer").module
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run():
    return judge.run(THREE_LAYER)


def by_replacement(run, text):
    """The mutant whose changed line reads text."""
    sources = {mutant.id: mutant.source for mutant in plant.generate(THREE_LAYER)}
    return next(record for record in run.mutants if plant._line(sources[record.id], record.line) == text)


def test_the_reference_passes_every_case_on_both_profiles(run):
    assert run.reference.status == "pass"
    assert {outcome.profile for outcome in run.reference.profiles} == {"course", "square"}
    assert all(outcome.status is MutantStatus.SURVIVED for outcome in run.reference.profiles)


def test_at_least_60_distinct_mutants_from_at_least_15_operators(run):
    distinct = [r for r in run.mutants if r.status is not MutantStatus.DUPLICATE]
    assert len(distinct) >= 60
    assert len({r.operator for r in distinct}) >= 15


def test_no_non_equivalent_mutant_survives_and_the_canary_is_caught(run):
    assert [r.id for r in run.mutants if r.status is MutantStatus.SURVIVED] == []
    assert run.sound and run.passed and run.score == 1.0
    assert {r.status for r in run.mutants} <= {MutantStatus.KILLED, MutantStatus.EQUIVALENT, MutantStatus.DUPLICATE}


def test_ids_are_operator_and_occurrence_and_unique(run):
    ids = [r.id for r in run.mutants]
    assert len(ids) == len(set(ids))
    for record in run.mutants:
        operator, occurrence = record.id.rsplit("-", 1)
        assert operator == record.operator and int(occurrence) >= 1


@pytest.mark.parametrize(("line", "operator", "parameter"), [
    pytest.param("dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2", "scale-double-gradient", "dW2", id="dW2-times-2"),
    pytest.param("db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)", "scale-quadruple-m", "db1", id="db1-4-over-m"),
])
def test_the_courses_planted_bugs_are_killed_with_the_parameter_they_hit(run, line, operator, parameter):
    record = by_replacement(run, line)
    assert record.operator == operator
    assert record.status is MutantStatus.KILLED
    assert record.parameters == (parameter,)
    assert all(outcome.status is MutantStatus.KILLED for outcome in record.profiles)


def test_a_mutant_that_crashes_on_the_course_sizes_is_killed_by_value_on_the_square_ones(run):
    crashing = [r for r in run.mutants if r.profile("course").status is MutantStatus.CRASHED]
    assert crashing, "the course sizes make some swapped operands crash"
    for record in crashing:
        assert record.profile("square").status is MutantStatus.KILLED, record.id


@pytest.mark.parametrize("mutant_id", ["mask-pre-activation-1", "mask-pre-activation-2"])
def test_a_mask_on_z_instead_of_a_is_equivalent(run, mutant_id):
    assert next(r for r in run.mutants if r.id == mutant_id).status is MutantStatus.EQUIVALENT


def test_the_same_gradients_as_an_earlier_mutant_make_a_duplicate(run):
    record = next(r for r in run.mutants if r.id == "mask-drop-1")
    assert record.status is MutantStatus.DUPLICATE and record.duplicate_of == "mask-greater-equal-1"


def test_a_mutant_that_does_not_reparse_is_reported_invalid_not_dropped():
    def broken(node, names):
        if node.id == "dZ3":
            return ast.Name("1dZ3", ast.Load())

    registry = {"broken": Operator("broken", "swap", "Breaks the code.", "m", (ast.Name,), broken,
                                (Example("x", ()),))}
    mutants = plant.generate(THREE_LAYER, registry=registry)
    assert mutants and all(not mutant.valid for mutant in mutants)
    _, records = judge.judge(THREE_LAYER, mutants)
    assert [r.status for r in records] == [MutantStatus.INVALID] * len(mutants)
    assert "re-parse" in records[0].message


def test_a_mutant_that_hangs_times_out():
    source = "def backward_propagation_n(X, Y, cache):\n    while True:\n        pass\n"
    function = plant.compile_function(source, THREE_LAYER)
    result = judge.trial(function, judge.bench(THREE_LAYER), timeout=0.2)
    assert {outcome.status for outcome in result.profiles} == {MutantStatus.TIMEOUT}


CONSTANT_COST = '''
import numpy as np
from grader.reference.cases import Case

NAME = "constant"
BACKWARD = "backward"
PARAMETER_NAMES = ("W",)
GRADIENT_NAMES = ("dW",)


def backward(X, W):
    dW = np.zeros_like(W)
    return {"dW": dW}


def cases(*, profile="course"):
    rng = np.random.default_rng(0)
    return [Case(name="c", X=rng.standard_normal((2, 3)), Y=np.zeros((1, 3)),
                 parameters={"W": rng.standard_normal((2, 2))}, profile=profile)]


def backward_args(case):
    return case.X, case.parameters["W"]


def batched_cost(case):
    return lambda parameters: np.sum(parameters["W"] * 0.0, axis=(-2, -1))
'''


def test_a_run_whose_canary_survives_is_unsound(tmp_path):
    path = tmp_path / "constant.py"
    path.write_text(CONSTANT_COST)
    result = judge.run(catalogue.load_reference(path))
    assert result.reference.status == "pass"
    assert not result.sound and not result.passed


def test_a_reference_file_that_cannot_load_is_a_one_line_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\nraise RuntimeError('boom')\n")
    with pytest.raises(ValueError, match="cannot load the reference"):
        catalogue.load_reference(path)
    with pytest.raises(ValueError, match="no such file"):
        catalogue.load_reference(tmp_path / "missing.py")


def test_catalogue_reads_the_committed_index_with_a_compiled_function_per_mutant():
    records = catalogue.catalogue(assignments.get("three_layer"))
    index = json.loads((catalogue.MUTANTS_DIR / "three_layer" / "index.json").read_text())
    assert [r.id for r in records] == [entry["id"] for entry in index["mutants"]]
    assert all(r.function is not None for r in records if r.status is not MutantStatus.INVALID)
    assert catalogue.catalogue(assignments.get("three_layer")) is records


def test_mutant_gradients_are_the_mutants_own():
    reference = THREE_LAYER.reference_gradients(assignments.get("three_layer").cases()[0])
    planted = catalogue.mutant_gradients(assignments.get("three_layer"), "scale-quadruple-m-6", "course", 0)
    np.testing.assert_allclose(planted["db1"], 4 * reference["db1"])
    np.testing.assert_array_equal(planted["dW1"], reference["dW1"])
    assert not planted["db1"].flags.writeable


def test_mutant_gradients_are_none_when_the_mutant_crashes():
    assert catalogue.mutant_gradients(assignments.get("three_layer"), "mask-other-layer-1", "course", 0) is None
    assert catalogue.mutant_gradients(assignments.get("three_layer"), "mask-other-layer-1", "square", 0) is not None


@pytest.mark.parametrize("assignment", ["three_layer", "l_layer", "one_d"])
def test_the_committed_catalogue_is_what_gradgrade_mutate_generates(tmp_path, assignment, capsys):
    """Golden files: after changing operators or the reference, refresh with `gradgrade mutate --assignment NAME`."""
    assert cli.main(["mutate", "--assignment", assignment, "--out", str(tmp_path)]) == 0
    generated = {path.name: path.read_text() for path in (tmp_path / assignment).iterdir()}
    committed = {path.name: path.read_text() for path in (REPOSITORY / "mutants" / assignment).iterdir()
                 if path.is_file()}  # a __pycache__ a tool left there is not part of the catalogue
    assert sorted(generated) == sorted(committed)
    for name, text in generated.items():
        assert text == committed[name], f"mutants/{assignment}/{name} is stale: run gradgrade mutate"


def test_the_l_layer_loop_is_mutated_and_every_mutant_caught():
    result = judge.run(assignments.get("l_layer").module)
    assert result.reference.status == "pass" and result.passed
    operators_used = {r.operator for r in result.mutants}
    assert {"loop-range-stop", "loop-range-start", "loop-reversed-drop", "loop-cache-index",
            "loop-wrong-activation"} <= operators_used


@pytest.mark.parametrize("assignment", ["three_layer", "l_layer", "one_d"])
def test_every_committed_mutant_file_is_python_that_compiles(assignment):
    """A mutant's header is all comments, whatever it changed (a mutated loop spans many lines)."""
    for path in sorted((REPOSITORY / "mutants" / assignment).glob("*.py")):
        compile(path.read_text(), str(path), "exec")
