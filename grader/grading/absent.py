"""Why a function the assignment grades is not in the submission: skipped, raised at its def, never reached, or absent (with the near-miss name the student may have meant)."""
from __future__ import annotations

import ast
import dataclasses
import difflib
from typing import Iterable

from grader import assignments, reference
from grader.load import keep
from grader.load import loaded
from grader.load import parse
from grader.results import CheckResult, ParameterResult, Status
from grader.sandbox.run import RunStatus, SandboxRun

# Names the course's notebooks (and students copying between them) give each graded function: a
# submission defining one of these instead of the expected name meant it, though the spelling is far.
KNOWN_NAMES = reference.KNOWN_NAMES
# difflib's ratio from which a name is a near miss: a long name with a short part left out (back_prop_n for
# backward_prop_n, 0.85) is one; two different course functions (relu_backward for linear_backward, 0.73)
# stay apart.
NEAR_MISS_RATIO = 0.8


def near_miss(name: str, candidates: Iterable[str], *, kind: str = "", taken: Iterable[str] = ()) -> str | None:
    """The name among candidates the student most plausibly meant for `name`, or None.

    The same name in another case first, then a close spelling (difflib), then the one candidate that is
    a name the course gives this kind of function elsewhere. Names in `taken` (the other graded
    functions) are never offered.
    """
    taken = set(taken) | {name}
    pool = [candidate for candidate in dict.fromkeys(candidates) if candidate not in taken]
    same_case = [candidate for candidate in pool if candidate.lower() == name.lower()]
    if same_case:
        return same_case[0]
    close = difflib.get_close_matches(name, pool, n=1, cutoff=NEAR_MISS_RATIO)
    if close:
        return close[0]
    known = [candidate for candidate in pool if candidate in KNOWN_NAMES.get(kind, ())]
    return known[0] if len(known) == 1 else None


def defined_functions(program: loaded.Program, run: SandboxRun | None = None) -> list[str]:
    """The functions a submission defines: its defs and lambdas as written (those of parts skipped too),
    and what the sandbox found callable after loading."""
    names = [node.name for node in _tree(program).body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    names += [target.id for node in _tree(program).body
              if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda)
              for target in node.targets if isinstance(target, ast.Name)]
    names += [name for part in program.skipped for name in part.names]
    return names + list(run.defined if run else ())


def taken_names(assignment: assignments.Assignment, program: loaded.Program) -> set[str]:
    """The names never offered as a near miss: the assignment's graded functions, and those of any other
    assignment the submission defines in full (the course notebook's one-dimensional exercise beside the
    network one: its backward pass is that exercise, not a misspelt name of the network's)."""
    defined = set(defined_functions(program))
    taken = set(assignment.student_functions)
    for other in assignments.built_in_student_functions():
        if other and set(other) <= defined:
            taken |= set(other)
    return taken


def _tree(program: loaded.Program) -> ast.Module:
    try:
        return parse.syntax_tree(program.source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ast.Module(body=[], type_ignores=[])


def _binding_lines(program: loaded.Program, name: str) -> list[int]:
    """The first lines of the top-level statements of the program that bind name."""
    return [statement.lineno for statement in _tree(program).body
            if any(bound == name for bound, _ in keep.names_set([statement]))]


def explain(result: CheckResult, *, program: loaded.Program, run: SandboxRun, kind: str,
            taken: Iterable[str] = ()) -> CheckResult:
    """A check of a function the sandbox did not find, with the real reason on its row.

    Skipped because it does not parse, or its def raised (a default naming a constant gradgrade left
    out), or loading stopped before it: an error, naming the line. Simply not there: missing, with the
    near-miss name it may be spelled as; a failed import elsewhere is a warning of its own, not the reason.
    """
    if result.status is not Status.MISSING or result.details.get("not_implemented"):
        return result
    name = result.name
    reason = program.skipped_reason(name)
    status = Status.ERROR
    unrun = dict(program.unrun).get(name)
    if reason is None and unrun is not None and not _binding_lines(program, name):
        # `backward_pass = make_backward()`: the student set it, by code gradgrade does not run.
        reason = (f"{name} is set only by top-level code at {program.locate(unrun)}, which gradgrade does not run "
                  "(it runs imports, definitions and constants): define it with def, or grade with --run-all")
    if reason is None:
        lines = _binding_lines(program, name)
        failures = dict(run.load_failures)
        raised = next((failures[line] for line in reversed(lines) if line in failures), None)
        if raised is not None:
            reason = f"defining {name} raised {raised}"
        elif lines:
            why = run.load_error or run.message or "it was not run"
            reason = (f"{name} was not defined: loading the submission stopped before its definition at "
                      f"{program.locate(lines[0])} ({why})")
            status = Status.TIMEOUT if run.status is RunStatus.TIMEOUT else Status.ERROR
    if reason is None:
        meant = near_miss(name, defined_functions(program, run), kind=kind, taken=taken)
        if meant is None:
            return result
        return dataclasses.replace(result, message=f"{result.message}; did you mean {meant}? (a function of that "
                                                   f"name is defined; the assignment asks for {name})")
    parameters = tuple(ParameterResult(parameter.name, Status.FAIL, None, f"{name} was not graded")
                       for parameter in result.parameters)
    return dataclasses.replace(result, status=status, message=reason, parameters=parameters)


def aliases(program: loaded.Program, names: dict[str, str], *, taken: Iterable[str] = ()) -> dict[str, str]:
    """For each expected name (name -> kind) the program does not define, the near-miss name it defines
    instead, to be graded under the expected name (the rubric's [names] accept_near_miss)."""
    defined = defined_functions(program)
    return {name: meant for name, kind in names.items() if name not in defined
            for meant in [near_miss(name, defined, kind=kind, taken=taken)] if meant is not None}


def alias_source(source: str, found: dict[str, str]) -> str:
    """source with each expected name bound to the near-miss function, after everything the student wrote
    (so their own lines keep their numbers)."""
    return source + "".join(f"{name} = {meant}\n" for name, meant in found.items()) if found else source


def penalised(result: CheckResult, *, meant: str, penalty: float) -> CheckResult:
    """A check graded under the expected name though the student named the function `meant`: the rubric's
    near_miss_penalty (a fraction of the function's points) taken off, and said on the row."""
    points = round(result.points * (1 - penalty), 6)
    note = (f"graded as {result.name}, though it is named {meant}"
            + (f" ({penalty:.0%} of its points taken off for the name)" if penalty else "") + "; ")
    return dataclasses.replace(result, points=points, message=note + result.message,
                               details={**(result.details or {}), "graded_as": meant, "name_penalty": penalty})
