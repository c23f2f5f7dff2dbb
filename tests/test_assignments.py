"""The assignment is resolved once, at a front door, and every stage's caches hang off the Assignment object."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader import assignments
from grader.grading import checker_probes, matching, pipeline
from grader.mutation import catalogue
from grader.settings import Settings

GRADER = Path(assignments.__file__).resolve().parent.parent

# The front doors, and where in them the assignment named by settings is resolved (None: anywhere in it).
FRONT_DOORS = {"cli": None, "jupyter": None, "gradescope": None,
               "executors": {"grade_job", "_warm", "error_dict"}}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(GRADER.rglob("*.py"))]


def _in_assignments_package(path: Path) -> bool:
    return path.relative_to(GRADER).parts[0] == "assignments"


def _functions_around(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node of the tree with the name of the top-level function it is in."""
    around = {}
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(top):
                around[node] = top.name
    return around


def test_only_the_front_doors_look_an_assignment_up_by_name():
    lookups = []
    for path, tree in _modules():
        if _in_assignments_package(path):
            continue
        around = _functions_around(tree)
        allowed = FRONT_DOORS.get(path.stem, ())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "assignments"):
                if allowed is None or around.get(node) in allowed:
                    continue
                lookups.append(f"{path.relative_to(GRADER)}:{node.lineno} in {around.get(node, 'the module')}")
    assert not lookups, f"a stage looks an assignment up by name instead of taking the Assignment: {lookups}"


def _cache_decorated(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ("cache", "lru_cache"):
            return True
        if isinstance(target, ast.Name) and target.id in ("cache", "lru_cache"):
            return True
    return False


def _about_an_assignment(argument: ast.arg) -> bool:
    annotation = ast.unparse(argument.annotation) if argument.annotation is not None else ""
    return (argument.arg.startswith(("assignment", "settings")) or "Assignment" in annotation
            or "Settings" in annotation)


def test_no_module_level_cache_is_keyed_by_an_assignment_or_settings():
    keyed = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not _cache_decorated(node):
                continue
            if _in_assignments_package(path) and node.name == "get":
                continue  # the registry: one Assignment object per built-in per process
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if any(_about_an_assignment(argument) for argument in arguments):
                keyed.append(f"{path.relative_to(GRADER)}:{node.lineno} {node.name}")
    assert not keyed, f"caches keyed by an assignment or settings belong on the Assignment (assignments.cached): {keyed}"


def _fresh(name: str) -> assignments.Assignment:
    """A second Assignment object of a built-in, as a second process would hold."""
    return assignments.Assignment(name, assignments.get(name).module)


def test_what_an_assignment_derives_is_computed_once_per_object():
    assignment = _fresh("three_layer")
    assert assignment.cases() is assignment.cases()
    assert assignment.expected_gradients(0) is assignment.expected_gradients(0)
    assert catalogue.catalogue(assignment) is catalogue.catalogue(assignment)
    assert checker_probes.probes(assignment) is checker_probes.probes(assignment)
    settings = Settings()
    assert pipeline.plan(assignment, settings) is pipeline.plan(assignment, Settings.from_json(settings.to_json()))


def test_two_assignment_objects_do_not_share_their_caches():
    first, second = _fresh("three_layer"), _fresh("three_layer")
    assert first == second and hash(first) == hash(second)  # equal as values, as before
    assert not matching.catalogue_candidates.cached_on(first)
    candidates = matching.catalogue_candidates(first)
    assert candidates and matching.catalogue_candidates.cached_on(first)
    assert not matching.catalogue_candidates.cached_on(second)
    assert first.cases() is not second.cases()
    assert [case.name for case in first.cases()] == [case.name for case in second.cases()]


def test_a_cached_value_is_the_same_as_an_uncached_one():
    assignment = _fresh("l_layer")
    for index, case in enumerate(assignment.cases()):
        names = assignment.case_gradient_names(index)
        assert names == tuple(assignment.module.gradient_names(case))
        assert set(assignment.expected_gradients(index)) == set(names)
        assert assignment.backward_args(index) is assignment.backward_args(index)


def test_a_failure_is_not_remembered():
    assignment = _fresh("one_d")
    calls = []

    def make():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first try fails")
        return "made"

    with pytest.raises(RuntimeError):
        assignment.remember("key", make)
    assert assignment.remember("key", make) == "made"
    assert assignment.remember("key", make) == "made"
    assert len(calls) == 2


def test_the_registry_hands_every_front_door_the_same_object():
    assert assignments.get("three_layer") is assignments.get("three_layer")
    with pytest.raises(assignments.UnknownAssignment, match="choose from three_layer"):
        assignments.get("four_layer")
