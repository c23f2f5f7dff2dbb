"""A graded function's own lines and where the student wrote them: .py files, notebooks, missing and unparsed."""
from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from hypothesis import given, settings, strategies as st

from grader.grading import function_source
from grader.load import program as load
from grader.results import CheckResult, FunctionSource, SourceStatus, Status, submission_from_json, SubmissionResult

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
BACKWARD = "backward_propagation_n"


def notebook(*cells: str) -> bytes:
    """A notebook of the given cells: "# md ..." ones are markdown, the rest code."""
    book = nbformat.v4.new_notebook()
    for cell in cells:
        book.cells.append(nbformat.v4.new_markdown_cell(cell[5:]) if cell.startswith("# md ")
                          else nbformat.v4.new_code_cell(cell))
    return nbformat.writes(book).encode()


def source_of(data: bytes, filename: str, name: str = BACKWARD, *, missing: bool = False) -> FunctionSource | None:
    return function_source.of(load.load_bytes(data, filename=filename), name, missing=missing)


def test_a_py_function_is_its_own_lines_numbered_as_in_the_file():
    data = (SUBMISSIONS / "planted_bugs.py").read_bytes()
    source = source_of(data, "planted_bugs.py")
    lines = data.decode().splitlines()
    assert source.status is SourceStatus.FOUND and source.cell is None
    assert source.line == source.program_line == 5
    assert source.text.splitlines() == lines[4:26]
    assert source.text.splitlines()[15 - 5].strip() == "dW2 = 1. / m * np.dot(dZ2, A1.T) * 2"


def test_a_notebook_function_is_numbered_by_its_code_cell_and_its_line_there():
    data = (SUBMISSIONS / "planted_bugs.ipynb").read_bytes()
    program = load.load_bytes(data, filename="planted_bugs.ipynb")
    source = function_source.of(program, BACKWARD)
    assert (source.cell, source.line) == (4, 1)
    assert source.text.startswith("def backward_propagation_n(X, Y, cache):")
    # The program line a diagnosis names, counted from the source's first line, is the line the student sees.
    bug = next(index for index, line in enumerate(source.text.splitlines()) if line.strip().startswith("dW2 ="))
    assert program.locate(source.program_line + bug) == f"code cell 4, line {source.line + bug}"


def test_decorators_are_part_of_the_function_and_other_code_is_not():
    text = textwrap.dedent('''\
        import functools
        import numpy as np

        SCALE = 1.0

        @functools.lru_cache()
        def backward_propagation_n(X, Y, cache):
            return {}

        def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
            return 0.0
        ''')
    source = source_of(text.encode(), "hw.py")
    assert source.text == "@functools.lru_cache()\ndef backward_propagation_n(X, Y, cache):\n    return {}"
    assert source.line == 6


def test_the_last_definition_is_the_one_shown_as_python_keeps_the_last():
    text = "def backward_propagation_n(X, Y, cache):\n    return 1\n\n\ndef backward_propagation_n(X, Y, cache):\n    return 2\n"
    source = source_of(text.encode(), "hw.py")
    assert (source.line, source.text) == (5, "def backward_propagation_n(X, Y, cache):\n    return 2")


def test_a_method_is_found_inside_its_class():
    text = "class Net:\n    def loss(self, X):\n        return 0\n\n    def backward(self, X):\n        return 1\n"
    source = source_of(text.encode(), "hw.py", "Net.backward")
    assert (source.line, source.text) == (5, "    def backward(self, X):\n        return 1")


def test_a_model_class_is_shown_as_its_definition_without_a_note():
    text = "import numpy as np\n\n\nclass TwoLayerNet(object):\n    def loss(self, X, y=None, reg=0.0):\n        return 0\n"
    source = source_of(text.encode(), "neural_net.py", "TwoLayerNet")
    assert source.line == 4 and source.text.startswith("class TwoLayerNet(object):") and source.note == ""


def test_a_function_set_by_assignment_shows_that_statement_and_says_so():
    text = "def mine(X, Y, cache):\n    return {}\n\nbackward_propagation_n = mine\n"
    source = function_source.of(load.load_bytes(text.encode(), filename="hw.py", run_all=True), BACKWARD)
    assert source.text == "backward_propagation_n = mine" and "not defined with def" in source.note


def test_a_missing_function_shows_the_one_with_a_close_name():
    text = "import numpy as np\n\n\ndef backward_propagation(X, Y, cache):\n    return {}\n"
    source = source_of(text.encode(), "hw.py", missing=True)
    assert source.status is SourceStatus.MISSING and source.line == 4
    assert source.text.startswith("def backward_propagation(") and "rename it backward_propagation_n" in source.note


def test_a_missing_function_without_a_close_name_lists_what_the_file_defines():
    text = "def forward_propagation_n(X, Y, parameters):\n    return 0, ()\n"
    source = source_of(text.encode(), "hw.py", "gradient_check_n", missing=True)
    assert source.status is SourceStatus.MISSING and source.text == ""
    assert source.note == "no function is named gradient_check_n; the submission defines forward_propagation_n"
    assert source_of(text.encode(), "hw.py", "gradient_check_n") is None  # graded from elsewhere: nothing to say


def test_a_definition_in_a_notebook_cell_that_does_not_parse_is_shown_with_the_stopping_line():
    broken = "# GRADED FUNCTION\ndef gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):\n    n = len(X\n    return n\n"
    data = notebook("# md # Gradient checking", "import numpy as np", "# md ## Your checker", broken,
                    "def backward_propagation_n(X, Y, cache):\n    return {}\n")
    source = source_of(data, "hw.ipynb", "gradient_check_n", missing=True)
    assert source.status is SourceStatus.UNPARSED and source.cell == 2 and source.line == 2
    assert source.text.splitlines()[0].startswith("def gradient_check_n(")
    assert "code cell 2 does not parse" in source.note and source.problem_line in (3, 4)


def test_the_record_survives_its_json_form():
    source = source_of((SUBMISSIONS / "planted_bugs.ipynb").read_bytes(), "planted_bugs.ipynb")
    check = CheckResult(BACKWARD, Status.PASS, 0.0, 1e-7, "ok", source=source)
    result = SubmissionResult("s", "three_layer", Status.PASS, 1.0, 1.0, (check,))
    assert submission_from_json(result.to_json()).checks[0].source == source
    del_source = result.to_json()
    del del_source["checks"][0]["source"]  # results written before the field existed still load
    assert submission_from_json(del_source).checks[0].source is None


lines_of_code = st.lists(st.sampled_from([
    "m = X.shape[1]", "", "# the 1/m factor belongs here", "\tdW = 1. / m * np.dot(dZ, A.T)",
    "if m > 1:\n        m = m  # a block", "s = \"\"\"two\nlines\"\"\"", "x = [1,\n         2]",
    "t = 'caf\u00e9 \u202e'", "\x0c"]), max_size=8)


@settings(max_examples=60, deadline=None)
@given(before=st.integers(0, 30), body=lines_of_code, after=st.integers(0, 5), crlf=st.booleans())
def test_every_shown_line_is_the_students_line_of_that_number(before, body, after, crlf):
    lines = ["X = 1"] * before + ["def backward_propagation_n(X, Y, cache):"]
    lines += ["    " + statement.replace("\t", "") if statement.strip() else statement
              for part in body for statement in part.split("\n")]
    lines += ["    return {}"] + ["Y = 2"] * after
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    source = source_of(text.encode(), "hw.py")
    assert source is not None
    for offset, shown in enumerate(source.text.split("\n")):
        assert shown == lines[source.line - 1 + offset]
    assert source.text.split("\n")[-1] == "    return {}" and source.line == before + 1


def test_a_definition_in_a_py_statement_that_does_not_parse_is_shown_in_file_lines():
    text = textwrap.dedent('''\
        import numpy as np


        def backward_propagation_n(X, Y, cache):
            return {}


        def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
            difference = np.linalg.norm(gradients - parameters
            return difference
        ''')
    source = source_of(text.encode(), "hw.py", "gradient_check_n", missing=True)
    assert source.status is SourceStatus.UNPARSED and source.cell is None and source.line == 8
    assert source.text.splitlines()[0].startswith("def gradient_check_n(") and source.problem_line in (9, 10)
    assert "the statement at line 8 does not parse" in source.note
