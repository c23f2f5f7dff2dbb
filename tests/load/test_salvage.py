"""Salvaging a .py that does not parse as a whole: every statement that parses alone is kept."""
from __future__ import annotations

import pytest

from grader.load import loaded
from grader.load import parse
from grader.load import program as load

# --- a .py that does not parse as a whole ----------------------------------------------------------------

PLAIN = ("import numpy as np\n\n\ndef backward_propagation_n(X, Y, cache):\n    return {}\n\n\n"
         "def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):\n    total = 0\n"
         "    for i in range(3):\n\tif i:\n            total += i\n    return total\n\n\n"
         "def forward_propagation_n(X, Y, parameters):\n    return 0.0, None\n")


@pytest.mark.parametrize("newline", [pytest.param("\n", id="lf"), pytest.param("\r\n", id="crlf"),
                                     pytest.param("\r", id="cr-only")])
def test_a_py_that_does_not_parse_keeps_every_function_that_does(newline):
    program = load.load_bytes(PLAIN.replace("\n", newline).encode(), filename="s.py")
    lines = parse.python_lines(program.source)
    assert lines[3] == "def backward_propagation_n(X, Y, cache):" and lines[15] == "def forward_propagation_n(X, Y, parameters):"
    assert "gradient_check_n" not in program.source
    assert program.warnings == ("the statement at line 8 (def gradient_check_n(parameters, gradients, X, Y, epsilon...) "
                                "does not parse and was skipped: TabError at line 11: inconsistent use of tabs and "
                                "spaces in indentation",)
    assert program.skipped_reason("gradient_check_n") == (
        "gradient_check_n was not graded: the statement at line 8, where it is defined, does not parse "
        "(TabError at line 11: inconsistent use of tabs and spaces in indentation)")


def test_salvaging_keeps_a_docstring_whose_lines_start_at_column_zero():
    text = '"""Week 5\n\nZoë Müller\n"""\nimport numpy as np\n\ndef f(:\n    pass\n\ndef g():\n    return 1\n'
    program = load.load_bytes(text.encode(), filename="s.py")
    assert "def g():" in program.source and [part.names for part in program.skipped] == [("f",)]


def test_a_py_with_no_function_that_parses_is_still_one_error():
    with pytest.raises(loaded.LoadError, match="does not parse at line 1"):
        load.load_bytes(b"def f(:\n    pass\n", filename="s.py")
