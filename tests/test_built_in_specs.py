"""The built-in assignments are specs in the public format, and grader/ knows none of them by name."""
import re
from pathlib import Path

import numpy as np
import pytest

from grader import assignments, reference
from grader import spec as api
from grader.assignments import specs

GRADER = Path(__file__).resolve().parent.parent / "grader"
SUBMISSIONS = GRADER.parent / "submissions"
COURSE_SHIMS = GRADER / "course"


def _built_in_words() -> set[str]:
    """Every name that would tie grader/ to a built-in: the assignments, their student functions and the
    course shim modules (gc_utils, ...)."""
    words = set(reference.BUILT_IN) | {path.stem for path in COURSE_SHIMS.glob("*.py")}
    for name in reference.BUILT_IN:
        words |= set(assignments.get(name).student_functions)
    return words


def test_the_words_searched_for_include_the_ones_the_issue_names():
    assert {"backward_propagation_n", "L_layer_backward", "three_layer", "gc_utils", "l_layer", "one_d",
            "gradient_check_n", "gradient_checking", "backward_propagation"} <= _built_in_words()


def test_no_module_of_grader_names_a_built_in_assignment_or_its_functions():
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _built_in_words()))) + r")\b")
    hits = []
    for path in sorted(GRADER.rglob("*")):
        if not path.is_file() or COURSE_SHIMS in path.parents or "__pycache__" in path.parts \
                or path.suffix not in {".py", ".j2", ".sh", ".toml", ".md"}:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(GRADER.parent)}:{number}: {line.strip()}")
    assert hits == []


def test_the_search_finds_a_built_in_name_where_there_is_one(tmp_path):
    # The test above can fail: the same pattern finds the name in a line that has it.
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _built_in_words()))) + r")\b")
    assert pattern.search("from gc_utils import relu") and pattern.search("if assignment.name == 'one_d':")
    assert not pattern.search("backward_propagation_nx = 1")


@pytest.mark.parametrize("name", reference.BUILT_IN)
def test_a_built_in_declares_a_valid_spec_of_the_public_kinds(name):
    assignment = assignments.get(name)
    found = specs.of_module(assignment.module, where=name)
    assert found is assignment.spec and found.name == name and found.version == api.VERSION
    assert all(isinstance(declared, api.KINDS + api.CHECKER_KINDS) for declared in found.functions)
    assert assignment.fixed_cases and not assignment.graded_by_spec
    assert assignment.backward == assignment.declared(api.Gradients).function
    assert assignment.checker == assignment.declared(api.Checker).function


@pytest.mark.parametrize("name", reference.BUILT_IN)
@pytest.mark.parametrize("profile", ("course", "square"))
def test_a_built_in_specs_cases_are_the_cases_it_is_graded_on(name, profile):
    assignment = assignments.get(name)
    spec = assignment.spec
    rng = np.random.default_rng(0)
    if profile == "course":
        drawn = list(spec.public_cases(rng)) + list(spec.hidden_cases(rng))
    else:
        drawn = list(spec.square_cases(rng)) if spec.square_cases else assignment.cases(profile="square")
    graded = assignment.cases(profile=profile)
    assert [case.name for case in drawn] == [case.name for case in graded]
    for mine, theirs in zip(drawn, graded):
        assert np.array_equal(mine.inputs["X"], theirs.X) and np.array_equal(mine.inputs["Y"], theirs.Y)
        assert {key: value.tolist() for key, value in mine.inputs["parameters"].items()} == \
               {key: np.asarray(value).tolist() for key, value in theirs.parameters.items()}


@pytest.mark.parametrize("name", reference.BUILT_IN)
def test_a_built_in_reference_passes_the_numerical_check_its_declaration_gives(name):
    assignment = assignments.get(name)
    for index, case in enumerate(assignment.cases()):
        expected = assignment.expected_gradients(index)
        found = assignment.reference_gradients(case)
        assert list(found) == list(expected) == list(assignment.case_gradient_names(index))
        for key in found:
            difference = np.linalg.norm(found[key] - expected[key]) / (
                np.linalg.norm(found[key]) + np.linalg.norm(expected[key]))
            assert difference < 1e-7, (case.name, key, difference)


def test_a_checker_in_a_spec_that_draws_its_cases_is_refused_with_one_line(tmp_path):
    path = tmp_path / "with_checker.py"
    path.write_text(
        "import numpy as np\n"
        "from grader.spec import Case, Checker, Gradients, Spec\n"
        "def cost(W, X):\n    return np.sum((X @ W) ** 2, axis=(-2, -1))\n"
        "def grad(W, X):\n    return {'dW': 2 * X.T @ (X @ W)}\n"
        "def check(W, grads, X, epsilon=1e-7):\n    return 0.0\n"
        "SPEC = Spec(name='with_checker', title='t',\n"
        "            functions=[Gradients('grad', cost=lambda params, X: cost(params['W'], X), wrt='params',\n"
        "                                 args=lambda inputs: (inputs['params']['W'], inputs['X'])),\n"
        "                       Checker('check', args=lambda inputs, grads: (inputs['params']['W'], grads, inputs['X']),\n"
        "                               gradapprox=lambda inputs, epsilon, reuse_thetaplus=False: None)],\n"
        "            public_cases=lambda rng: [Case('c', {'params': {'W': rng.standard_normal((3, 2))},\n"
        "                                                 'X': rng.standard_normal((4, 3))})])\n")
    with pytest.raises(assignments.UnknownAssignment) as raised:
        assignments.get(str(path))
    message = str(raised.value)
    assert "\n" not in message and "check: a Checker is graded only for an assignment whose reference module gives " \
                                    "its cases itself" in message


def test_the_default_assignment_lives_in_the_reference_package():
    from grader.settings import Settings

    assert Settings().assignment == reference.DEFAULT and reference.DEFAULT in reference.BUILT_IN


@pytest.mark.parametrize("name, sample", [("three_layer", "planted_bugs.py"), ("l_layer", "l_layer/correct_own_caches.py"),
                                          ("one_d", "one_d/doubled.py")])
def test_a_built_in_graded_through_its_spec_file_path_grades_as_by_its_name(name, sample):
    # The reference module is an ordinary spec file: given by path, it grades exactly as the installed one.
    from grader.grading import pipeline
    from grader.report import render
    from grader.settings import Settings

    path = SUBMISSIONS / sample
    by_name = pipeline.grade_file(path, Settings(assignment=name), assignment=assignments.get(name))
    spec_file = assignments.get(name).module.__file__
    by_path = pipeline.grade_file(path, Settings(assignment=name), assignment=assignments.get(spec_file))
    assert render.json_text(by_path) == render.json_text(by_name)


def test_a_renamed_copy_of_a_built_in_grades_its_renamed_submission(tmp_path):
    # Nothing in grader/ knows the built-in's names: renamed everywhere, its spec grades the renamed sample the same
    # way (without the catalogue, which is the built-in's own).
    from grader.grading import pipeline
    from grader.settings import Settings

    renames = {"backward_propagation_n": "net_backward", "forward_propagation_n": "net_forward",
               "gradient_check_n": "net_check", '"three_layer"': '"renamed_net"'}
    source = Path(assignments.get("three_layer").module.__file__).read_text()
    submission = (SUBMISSIONS / "correct_matmul.py").read_text()
    for old, new in renames.items():
        source, submission = source.replace(old, new), submission.replace(old, new)
    # The course helpers keep their own names (course_forward's forward pass), as a renamed course would ship them.
    source = source.replace('"net_forward": "course_forward:net_forward"', '"net_forward": "course_forward:forward_propagation_n"')
    (tmp_path / "renamed_net.py").write_text(source)
    (tmp_path / "student.py").write_text(submission)
    assignment = assignments.get(str(tmp_path / "renamed_net.py"))
    assert assignment.name == "renamed_net" and assignment.fixed_cases
    result = pipeline.grade_file(tmp_path / "student.py", Settings(assignment=str(tmp_path / "renamed_net.py")),
                                 assignment=assignment)
    original = pipeline.grade_file(SUBMISSIONS / "correct_matmul.py", Settings(), assignment=assignments.get("three_layer"))
    assert [(check.name, check.status, [case.status for case in check.cases]) for check in result.checks][:1] == \
           [("net_backward", *[(check.status, [case.status for case in check.cases]) for check in original.checks][0])]
    backward = result.checks[0]
    assert backward.status.value == "pass" and len(backward.cases) == 5


def test_a_spec_files_own_cases_helper_does_not_make_it_a_built_in(tmp_path):
    # Only cases(*, profile=...) is the built-ins' protocol; a spec's helper cases(rng, sizes) is its own.
    module = type(specs)("m")
    module.cases = lambda rng, sizes: []
    assert not specs.gives_cases(module)
    module.cases = lambda *, profile="course": []
    assert specs.gives_cases(module)


@pytest.mark.parametrize("name", reference.BUILT_IN)
def test_planning_a_built_in_never_draws_its_spec_cases(name):
    # A built-in is graded on its own cases by the catalogue graders: the spec machinery (drawn cases, the
    # spec catalogue, spec diagnosis) is not run for it, where its cost would be paid for nothing.
    from grader.grading import pipeline
    from grader.settings import Settings

    assignment = assignments.Assignment(name, assignments.get(name).module)
    pipeline.plan(assignment, Settings(assignment=name))
    assert not any(assignments._drawn.cached_on(assignment, profile) for profile in ("course", "square"))
