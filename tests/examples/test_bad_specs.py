"""A spec that cannot grade stops every command at its front door: one line naming what is wrong, exit 2."""
import textwrap

import pytest

from grader import cli

HEADER = '''
import numpy as np
from grader.spec import Case, Loss, Spec


def absolute(x):
    """sum |x|: a kink wherever an entry is 0."""
    return float(np.sum(np.abs(x))), np.sign(x)


def half_square(x):
    return 0.5 * float(np.sum(x ** 2)), FACTOR * x


FACTOR = 1.0
'''
# (what follows HEADER in the spec file, what the one line must say)
BAD = [
    pytest.param('''
        FACTOR = 1.5
        SPEC = Spec(name="s", title="t", functions=[Loss("half_square", wrt="x")],
                    public_cases=lambda rng: [Case("one", {"x": rng.standard_normal(4)})])
        ''', ("the reference's half_square's dx differs from its numerical gradient by 2.0e-01", "on case one",
              "the reference fails its own numerical check"), id="reference fails its own check"),
    pytest.param('''
        SPEC = Spec(name="s", title="t", functions=[Loss("cube", wrt="x")],
                    public_cases=lambda rng: [Case("one", {"x": rng.standard_normal(4)})])
        ''', ("cube is declared but the spec file defines no reference cube",), id="declared, not in the reference"),
    pytest.param('''
        SPEC = Spec(name="s", title="t", functions=[Loss("absolute", wrt="x")],
                    public_cases=lambda rng: [Case("one", {"x": rng.standard_normal(4)})],
                    hidden_cases=lambda rng: [Case("at-the-kink", {"x": 1e-8 * rng.uniform(-1, 1, 4)})])
        ''', ("no healthy course case at-the-kink in 25 draws", "the numerical gradient of absolute's dx changes "
              "with the step"), id="cases that cannot be screened healthy"),
    pytest.param('''
        SPEC = Spec(name="s", title="t", functions=[Loss("absolute", wrt="x")],
                    public_cases=lambda rng: [Case("zero", {"x": np.full(3, 1e-8)})])
        ''', ("public case zero:", "the public case cannot be redrawn"), id="a public case at a kink"),
    pytest.param('''
        SPEC = Spec(name="s", title="t", functions=[Loss("half_square", wrt="x")],
                    public_cases=lambda rng: [Case("one", {"x": rng.standard_normal(4)})],
                    helpers={"gc_utils": "my_utils.py"})
        ''', ("helper module 'gc_utils' takes the name of a course shim gradgrade provides",), id="helper named as a shim"),
    pytest.param('''
        TITLE = "an old-style module, no SPEC"
        ''', ("no SPEC = grader.spec.Spec(...) in the file",), id="no SPEC"),
    pytest.param('''
        def cases(rng):
            return [Case("one", {"x": rng.standard_normal((2, 3)) @ rng.standard_normal((2, 3))})]

        SPEC = Spec(name="s", title="t", functions=[Loss("half_square", wrt="x")], public_cases=cases)
        ''', ("s: its public cases raised ValueError: matmul",), id="a case raising"),
    pytest.param('''
        SPEC = Spec(name="s", title="t", functions=[Loss("half_square", wrt="x")],
                    public_cases=lambda rng: [Case("one", {"y": rng.standard_normal(4)})])
        ''', ("case one grades no declared function",), id="a case fitting no function"),
]


def _spec(tmp_path, body: str):
    path = tmp_path / "course_spec.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return path


@pytest.mark.parametrize("body, words", BAD)
@pytest.mark.parametrize("command", ["check", "grade"])
def test_a_bad_spec_is_one_line_and_exit_2(command, body, words, tmp_path, capsys):
    student = tmp_path / "class" / "ada.py"
    student.parent.mkdir()
    student.write_text("import numpy as np\ndef half_square(x):\n    return 0.5 * float(np.sum(x ** 2)), x\n")
    where = [str(student)] if command == "check" else [str(student.parent), "--out", str(tmp_path / "out")]
    assert cli.main([command, *where, "--assignment", str(_spec(tmp_path, body))]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("gradgrade: ") and "course_spec.py" in captured.err
    for word in words:
        assert word in captured.err
    assert not (tmp_path / "out").exists()
