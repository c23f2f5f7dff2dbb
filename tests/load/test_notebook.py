"""Loading notebooks: magics made inert, broken cells skipped, every nbformat version, and a .py exported from one."""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from grader import assignments
from grader.grading import pipeline
from grader.load import loaded
from grader.load import notebook as notebooks
from grader.load import parse
from grader.load import program as load
from grader.load import salvage
from grader.results import Status
from grader.settings import Settings
from shapes import notebook

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
TWINS = ("correct_course_style", "correct_matmul", "planted_bugs", "wrong_mask", "sign_flip", "missing_m")
REFRESH = os.environ.get("GRADGRADE_REFRESH_TWINS") == "1"


def notebook_twin(text: str) -> str:
    """A notebook holding a .py submission the way students hand one in: magics, course imports, a
    first attempt later redefined, top-level test calls, a broken scratch cell, a Python 2 print."""
    tree = ast.parse(text)
    lines = text.splitlines()
    title = lines[0].lstrip("# ").strip()
    imports = [ast.get_source_segment(text, node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    defined = {node.name for node in functions}
    cells = [f"# md # Gradient Checking\n{title}",
             "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n" + "\n".join(imports)
             + "\nfrom gc_utils import sigmoid, relu, dictionary_to_vector, vector_to_dictionary, gradients_to_vector"
             + "\nfrom testCases import *\nfrom public_tests import *",
             "!pip install --quiet numpy",
             "# GRADED FUNCTION: backward_propagation_n (first try)\ndef backward_propagation_n(X, Y, cache):\n    return None"]
    for node in functions:
        start = node.lineno - 1
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1
        cells.append("\n".join(lines[start:node.end_lineno]))
    calls = ["X, Y, parameters = gradient_check_n_test_case()"]
    if "forward_propagation_n" in defined:
        calls.append("cost, cache = forward_propagation_n(X, Y, parameters)")
        calls.append("gradients = backward_propagation_n(X, Y, cache)")
    if "gradient_check_n" in defined:
        calls.append("difference = gradient_check_n(parameters, gradients, X, Y, 1e-7)")
    cells.append("\n".join(calls))
    cells.append("# scratch: the template, half filled\ndef backward_propagation_n(X, Y, cache):\n"
                 "    dZ3 = # YOUR CODE STARTS HERE\n    return {}")
    cells.append("%timeit backward_propagation_n(X, Y, cache)\nprint \"done\"")
    cells.append("%%bash\nls -l")
    return notebook(*cells).decode()


def comparable(result) -> dict:
    """What must be equal between a .py and its notebook twin: statuses, scores, differences."""
    data = result.to_json()
    return {"status": data["status"], "score": data["score"], "checks": [
        {"name": check["name"], "status": check["status"], "difference": check["difference"],
         "parameters": {name: (entry["status"], entry["difference"]) for name, entry in check["parameters"].items()}}
        for check in data["checks"]]}


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in TWINS])
def test_notebook_twin_grades_like_its_py(name):
    py_path, notebook_path = SUBMISSIONS / f"{name}.py", SUBMISSIONS / f"{name}.ipynb"
    if REFRESH:
        notebook_path.write_text(notebook_twin(py_path.read_text()))
    program = load.load(notebook_path)
    assert any("cell" in warning and "does not parse" in warning for warning in program.warnings)
    assert any("magics" in warning for warning in program.warnings)
    settings = Settings()
    assert comparable(pipeline.grade_file(notebook_path, settings, assignment=assignments.get(settings.assignment))) == comparable(pipeline.grade_file(py_path, settings, assignment=assignments.get(settings.assignment)))


def test_run_all_runs_the_notebooks_top_level_calls_and_grades_the_same():
    path = SUBMISSIONS / "correct_course_style.ipynb"
    program = load.load(path, run_all=True)
    assert "gradients = backward_propagation_n(X, Y, cache)" in program.source
    result = pipeline.grade_file(path, Settings(run_all=True), assignment=assignments.get("three_layer"))
    assert result.status.value == "pass", result.message
    assert "Your backward propagation works perfectly fine" in result.output


@pytest.mark.parametrize("cell, expected", [
    pytest.param("%matplotlib inline\nimport numpy as np", "\nimport numpy as np", id="line-magic"),
    pytest.param("!pip install numpy\nx = 1", "\nx = 1", id="shell-escape"),
    pytest.param("files = !ls\nx = 1", "files = None\nx = 1", id="assigned-shell"),
    pytest.param("t = %timeit -o f()\nx = 1", "t = None\nx = 1", id="assigned-magic"),
    pytest.param("def f():\n    %time g()\n    return 1", "def f():\n    pass\n    return 1", id="indented-magic"),
    pytest.param("np.dot?\nx = 1", "\nx = 1", id="help"),
    pytest.param("%%bash\necho hi\nls", "\n\n", id="bash-cell"),
    pytest.param("%%writefile helper.py\ndef f():\n    return 1", "\n\n", id="writefile-cell"),
    pytest.param("%%time\ndef f():\n    return 1", "\ndef f():\n    return 1", id="time-cell-keeps-body"),
])
def test_magics_are_neutralised_line_for_line(cell, expected):
    neutralised, notes = notebooks.neutralise(cell)
    assert neutralised == expected and notes
    assert neutralised.count("\n") == cell.count("\n")


def test_a_cell_that_parses_is_never_rewritten():
    text = 'template = """\n%d of %d\n!important\n"""\n'
    program = load.load_bytes(notebook(text), filename="s.ipynb")
    assert '%d of %d\n!important' in program.source


@pytest.mark.parametrize("cell, words", [
    pytest.param("def backward_propagation_n(X, Y, cache):\n    dZ3 = # YOUR CODE HERE\n", "SyntaxError", id="template"),
    pytest.param("def f():\n\treturn 1\n        return 2", "TabError", id="tabs"),
    pytest.param('print "hello"', "Missing parentheses", id="python2-print"),
])
def test_a_cell_that_does_not_parse_is_skipped_with_a_warning_naming_it(cell, words):
    data = notebook("# md intro", "import numpy as np", cell, "def g():\n    return 2")
    program = load.load_bytes(data, filename="s.ipynb")
    first_line = cell.splitlines()[0][:57]
    warning = next(warning for warning in program.warnings if "does not parse" in warning)
    assert warning.startswith(f"code cell 2 ({first_line}") and words in warning
    assert "def g():" in program.source


@pytest.mark.parametrize("minor", [pytest.param(minor, id=f"v4.{minor}") for minor in range(6)])
def test_every_v4_minor_loads(minor):
    program = load.load_bytes(notebook("def f():\n    return 1", minor=minor), filename="s.ipynb")
    assert "def f():" in program.source


def test_a_v3_notebook_is_converted():
    book = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[
        nbformat.v3.new_code_cell(input="def f():\n    return 3")])])
    program = load.load_bytes(nbformat.writes(book, version=3).encode(), filename="old.ipynb")
    assert "return 3" in program.source


def test_a_notebook_that_bends_the_schema_is_graded_anyway():
    data = json.loads(notebook("def f():\n    return 1"))
    data["cells"][0]["unexpected"] = True
    program = load.load_bytes(json.dumps(data).encode(), filename="s.ipynb")
    assert "def f():" in program.source
    assert any("schema" in warning for warning in program.warnings)


def test_a_notebook_exported_as_py_that_does_not_parse_is_loaded_cell_by_cell():
    text = ("#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\nimport numpy as np\n"
            "get_ipython().run_line_magic('matplotlib', 'inline')\n\n\n# In[2]:\n\n\nprint 'scratch'\n\n\n"
            "# In[3]:\n\n\ndef f():\n    return 1 / 0\n")
    program = load.load_bytes(text.encode(), filename="exported.py")
    assert "def f():" in program.source and "get_ipython" not in program.source
    assert any(warning.startswith("the cell at line 11 (# In[2]:) does not parse") for warning in program.warnings)
    assert program.source.splitlines()[19:21] == ["def f():", "    return 1 / 0"]  # the file's own lines


def test_a_notebook_whose_later_cell_starts_with_a_future_import_is_graded(tmp_path):
    source = (SUBMISSIONS / "correct_course_style.py").read_text()
    path = tmp_path / "future.ipynb"
    path.write_bytes(notebook("import numpy as np", "from __future__ import annotations\n" + source))
    result = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
    assert result.status is Status.PASS and not any("__future__" in warning for warning in result.warnings), result


def test_a_notebook_cell_with_a_form_feed_in_a_string_keeps_its_lines():
    data = notebook("import numpy as np", "def f():\n    s = 'a\x0cb'\n    return s\n\ndef g():\n    return 1 / 0")
    program = load.load_bytes(data, filename="odd.ipynb")
    namespace: dict = {}
    exec(compile(program.source, "odd.ipynb", "exec"), namespace)  # our own test cells, not a submission
    assert namespace["f"]() == "a\x0cb"
    line = next(number for number, text in enumerate(program.source.split("\n"), start=1) if "1 / 0" in text)
    assert program.locate(line) == "code cell 2, line 6"


# Pieces of notebook cells: code that parses, code that does not, magics, and what may join cells when they
# are parsed together (a backslash, an open bracket or string, a decorator or an indented line left alone).
CELL_PIECES = ("import numpy as np", "def f(x):\n    return 2 * x", "x = 1", "f(1)", "y = (1,\n     2)", "print('ü')",
               "s = 'a\x0cb'", "class C:\n    k = 1", "dZ3 = # YOUR CODE", 'print "done"', "x = (1,", "2)",
               "%matplotlib inline", "!pip install numpy", "files = !ls", "np.dot?", "%%time", "%%bash",
               "    %time f(1)", "x = 1 + \\", "z = 3 \\", "@decorator", "'''", 's = """', "    return 1", "\tx = 2",
               "from __future__ import annotations", "from __future__ import barry_as_FLUFL", "1 <> 2", "")
CELL_SEPARATORS = ("\n", "\r\n", "\r", "; ", "\n\n")


@st.composite
def cell_sources(draw):
    """The code cells of a notebook, made of those pieces joined every way a line may end."""
    cells = []
    for _ in range(draw(st.integers(1, 6))):
        pieces = draw(st.lists(st.sampled_from(CELL_PIECES), min_size=1, max_size=4))
        separators = [draw(st.sampled_from(CELL_SEPARATORS)) for _ in pieces]
        cells.append("".join(piece + separator for piece, separator in zip(pieces, separators))[:draw(st.sampled_from((None, -1)))])
    return cells


def cells_parsed_one_by_one_then_together(sources: list[str], *, run_all: bool) -> loaded.Program:
    """load_cells the plain way, the reference for its speed-ups: each cell parsed alone, then the program again."""
    lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    warnings: list[str] = []
    magics: list[str] = []
    skipped: list[loaded.Skipped] = []
    for number, source in enumerate(sources, start=1):
        if not source.strip():
            continue
        cell, notes, problem = notebooks._parsed_cell(source)
        if problem is not None:
            where = f"code cell {number} ({salvage.first_line(source)})"
            skipped.append(loaded.Skipped(f"code cell {number}", salvage.first_line(source),
                                        tuple(salvage.defined_names(source)), problem, source, 1, number))
            warnings.append(f"{where} does not parse and was skipped: {problem}")
            continue
        magics += notes
        cell_lines = parse.LINE_BREAK.split(cell)
        lines += cell_lines + [""]
        line_map += [(number, line) for line in range(1, len(cell_lines) + 1)] + [(number, len(cell_lines) + 1)]
    text, unrun = notebooks._joined_cells(lines, magics, warnings, filename="nb.ipynb", cells="the notebook's cells",
                                     run_all=run_all)
    if len(parse.python_lines(text)) != len(line_map):
        line_map = []
    return loaded.Program(text, "nb.ipynb", tuple(warnings), tuple(line_map), unrun, tuple(skipped))


def what_loading_gave(load_program) -> tuple:
    """What loading gave: the program and the tree remembered for it, or the LoadError's message."""
    try:
        program = load_program()
    except loaded.LoadError as error:
        return ("LoadError", str(error))
    return program, ast.dump(parse.syntax_tree(program.source), include_attributes=True)


@hypothesis_settings(max_examples=150, deadline=None)
@given(cell_sources(), st.booleans())
def test_cells_parsed_in_place_give_the_program_and_tree_of_cells_parsed_then_joined(sources, run_all):
    expected = what_loading_gave(lambda: cells_parsed_one_by_one_then_together(sources, run_all=run_all))
    assert what_loading_gave(lambda: notebooks.load_cells(sources, filename="nb.ipynb", run_all=run_all, warnings=[])) == expected


def test_a_skipped_cell_of_an_exported_py_names_lines_of_the_file():
    text = "# In[1]:\n\nimport numpy as np\n\n# In[2]:\n\ndef f():\n    x = (\n    return 1\n"
    program = load.load_bytes(text.encode(), filename="export.py")
    assert program.warnings[0].startswith("the cell at line 5 (# In[2]:) does not parse and was skipped: "
                                          "SyntaxError at line 8:")
    assert program.skipped[0].names == ("f",)
    assert parse.python_lines(program.source)[2] == "import numpy as np"  # the file's line 3: nothing shifted
