"""What of a submission runs: definitions, imports and constants kept, the rest blanked without moving a line."""
from __future__ import annotations

import ast
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from grader.load import keep
from grader.load import parse
from grader.load import program as load

@pytest.mark.parametrize("text", [
    pytest.param("x = 1; run()\ndef f():\n    return 1 / 0\n", id="after-a-kept-one"),
    pytest.param("run(); import math\ndef f():\n    return 1 / 0\n", id="before-a-kept-one"),
    pytest.param("import math; run(1,\n    2); x = 'é'\ndef f():\n    return 1 / 0\n", id="over-two-lines"),
    pytest.param("x = 'é'; run(); go(); y = 2\ndef f():\n    return 1 / 0\n", id="two-on-one-line"),
])
def test_a_dropped_statement_that_shares_a_line_with_a_kept_one_moves_no_line(text):
    program = load.load_bytes(text.encode(), filename="shared.py")
    assert "run(" not in program.source and "go()" not in program.source
    lines = program.source.split("\n")
    assert lines.index("    return 1 / 0") == text.split("\n").index("    return 1 / 0")
    namespace: dict = {}
    exec(compile(program.source, "shared.py", "exec"), namespace)  # our own test source, not a submission
    assert callable(namespace["f"])


# Top-level statements, kept (imports, definitions, constants) and dropped (calls, prints), some over two lines.
SIMPLE_STATEMENTS = ("import math", "x = 'é'", "y = (1,\n     2)", "run()", "run(1,\n    2)", "print('ü')",
                     "z = compute()", "go(); ")
COMPOUND_STATEMENTS = ("def f():\n    return 1 / 0", "for i in range(2):\n    run(i)", "class C:\n    k = 1")
SEPARATORS = ("; ", "\n", "; \\\n", "\n\n")


@st.composite
def modules(draw):
    """A module's text made of those statements with every way Python lets them share or continue lines."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            parts += [draw(st.sampled_from(COMPOUND_STATEMENTS)), "\n"]
        else:
            parts += [draw(st.sampled_from(SIMPLE_STATEMENTS)), draw(st.sampled_from(SEPARATORS))]
    return "".join(parts) + "\n"


@hypothesis_settings(max_examples=300, deadline=None)
@given(modules())
def test_cutting_statements_out_always_leaves_code_that_parses_on_the_same_lines(text):
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return  # the generator may put a compound statement after a backslash: not a program
    # The unparse fallback would renumber every line: it must never be what a submission is graded on.
    with mock.patch.object(keep.ast, "unparse", side_effect=AssertionError("definitions_only fell back to unparse")):
        source, dropped = keep.definitions_only(text, tree)
    cut = ast.parse(source)
    assert len(parse.python_lines(source)) == len(parse.python_lines(text))
    assert dropped == sum(not keep.keeps(statement) for statement in tree.body)
    kept = [(type(node).__name__, node.lineno) for node in tree.body if keep.keeps(node)]
    assert [(type(node).__name__, node.lineno) for node in cut.body if not isinstance(node, ast.Pass)] == kept


# --- computed constants and lambdas ----------------------------------------------------------------------

@pytest.mark.parametrize("statement, kept", [
    pytest.param("EPS = 10**-7", True, id="power"),
    pytest.param("EPS = 1/10**7", True, id="division"),
    pytest.param("EPS = float('1e-7')", True, id="float-call"),
    pytest.param("EPS = np.float64(1e-7)", True, id="numpy-scalar"),
    pytest.param("SCALE = np.float64(1.0)", True, id="numpy-one"),
    pytest.param("H = math.sqrt(2) * np.pi", True, id="math-and-pi"),
    pytest.param("TINY = np.finfo(float).eps", True, id="finfo-eps"),
    pytest.param("DOUBLE = 2 * EPS", True, id="a-kept-name"),
    pytest.param("relu_mask = lambda A: (A > 0).astype(float)", True, id="lambda"),
    pytest.param("step = lambda x, e=EPS: x + e", True, id="lambda-default-kept-name"),
    pytest.param("noise = np.random.randn(3)", False, id="random"),
    pytest.param("EPS2 = unknown * 2", False, id="an-unknown-name"),
    pytest.param("big = 10 ** 10 ** 8", False, id="huge-power"),
    pytest.param("data = open('x').read()", False, id="a-call-not-allowed"),
    pytest.param("run = print('hi')", False, id="print"),
    pytest.param("step = lambda x, e=rng.random(): x", False, id="lambda-default-runs-code"),
])
def test_constants_computed_from_literals_and_allowed_calls_are_kept(statement, kept):
    text = f"import math\nimport numpy as np\nEPS = 1e-7\n{statement}\n"
    tree = ast.parse(text)
    assert keep.kept_statements(tree.body) == [True, True, True, kept]


def test_a_def_whose_default_names_a_computed_constant_is_graded():
    text = ("import numpy as np\nEPS = np.float64(1e-7)\n\n"
            "def gradient_check_n(parameters, gradients, X, Y, epsilon=EPS):\n    return epsilon\n")
    program = load.load_bytes(text.encode(), filename="s.py")
    namespace: dict = {}
    exec(compile(program.source, "s.py", "exec"), namespace)
    assert namespace["gradient_check_n"](None, None, None, None) == 1e-7 and not program.warnings
