"""Loading submissions: .py and notebooks, magics made inert, broken cells skipped, definitions kept."""
from __future__ import annotations

import ast
import codecs
import json
import os
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from grader.grading import pipeline
from grader.load import program as load
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
    assert comparable(pipeline.grade_file(notebook_path, settings)) == comparable(pipeline.grade_file(py_path, settings))


def test_run_all_runs_the_notebooks_top_level_calls_and_grades_the_same():
    path = SUBMISSIONS / "correct_course_style.ipynb"
    program = load.load(path, run_all=True)
    assert "gradients = backward_propagation_n(X, Y, cache)" in program.source
    result = pipeline.grade_file(path, Settings(run_all=True))
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
    neutralised, notes = load.neutralise(cell)
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


def test_the_last_definition_wins_and_top_level_calls_are_dropped():
    data = notebook("def f():\n    return 1", "f()\nprint('side effect')", "def f():\n    return 2")
    program = load.load_bytes(data, filename="s.ipynb")
    namespace: dict = {}
    exec(compile(program.source, "s.ipynb", "exec"), namespace)  # our own test text, not student code
    assert namespace["f"]() == 2 and "side effect" not in program.source
    assert "side effect" in load.load_bytes(data, filename="s.ipynb", run_all=True).source


def test_a_diagnosis_points_at_the_students_cell_and_line(submissions_dir):
    result = pipeline.grade_file(submissions_dir / "planted_bugs.ipynb", Settings())
    hints = {d.parameters: d.where for d in result.check("backward_propagation_n").diagnosis}
    assert hints[("dW2",)] == "code cell 4, line 11" and hints[("db1",)] == "code cell 4, line 17"


def test_sandbox_line_numbers_become_cells():
    data = notebook("import numpy as np", "%matplotlib inline\n\ndef backward_propagation_n(X, Y, cache):\n"
                    "    m = X.shape[1]\n    return 1 / 0")
    program = load.load_bytes(data, filename="s.ipynb")
    line = next(index for index, text in enumerate(program.source.splitlines(), 1) if "1 / 0" in text)
    assert program.locate(line) == "code cell 2, line 5"
    result = pipeline.grade_program(program, "s", Settings())
    backward = next(check for check in result.checks if check.name == "backward_propagation_n")
    assert "ZeroDivisionError" in backward.message and "(code cell 2, line 5)" in backward.message


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


def test_a_notebook_saved_under_a_py_name_is_graded_as_the_notebook_it_is():
    program = load.load_bytes(notebook("import numpy as np", "def f(x):\n    return x + 1"), filename="hw.py")
    assert "def f(x):" in program.source and program.line_map  # cell by cell, as a notebook
    assert any("hw.py holds a notebook" in warning for warning in program.warnings)


def test_python_saved_under_an_ipynb_name_is_graded_as_the_python_it_is():
    program = load.load_bytes(b"import numpy as np\n\ndef f(x):\n    return x + 1\n", filename="hw.ipynb")
    assert "def f(x):" in program.source and not program.line_map
    assert any("hw.ipynb holds Python source" in warning for warning in program.warnings)


@pytest.mark.parametrize("data, filename", [
    pytest.param(b'{"a": 1}\ndef f():\n    pass\n', "dict.py", id="py-opening-with-a-dict"),
    pytest.param(b'x = {"cells": []}\n', "cells.py", id="py-naming-cells"),
])
def test_python_that_only_looks_like_json_stays_python(data, filename):
    program = load.load_bytes(data, filename=filename)
    assert not any("holds a notebook" in warning for warning in program.warnings)


@pytest.mark.parametrize("data, filename, words", [
    pytest.param(b"", "empty.ipynb", "is empty", id="empty"),
    pytest.param(b"   \n", "blank.py", "is empty", id="blank"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "image.ipynb", "binary", id="binary"),
    pytest.param("déf f(): pass".encode("latin-1"), "latin.py", "not UTF-8", id="latin-1"),
    pytest.param(b"{not json", "broken.ipynb", "not a notebook", id="not-json"),
    pytest.param(b'{"cells": 3}', "odd.ipynb", "not a Jupyter notebook", id="json-not-notebook"),
    pytest.param(b"[1, 2]", "list.ipynb", "not a Jupyter notebook", id="json-list"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "deep.ipynb", "nested too deeply", id="json-nested-too-deeply"),
    pytest.param(b'{"cells": [' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b'], "nbformat": 4}', "deep.ipynb",
                 "nested too deeply", id="notebook-nested-too-deeply"),
    pytest.param(b"x = " + b"-" * 1_000_000 + b"1\n", "deep.py", "too deeply nested", id="py-nested-too-deeply"),
    pytest.param(notebook("# md only words"), "words.ipynb", "no code cells", id="no-code"),
    pytest.param(b"def f(:\n", "broken.py", "does not parse", id="py-syntax"),
    pytest.param(b"x = 1", "notes.txt", "not .txt", id="suffix"),
])
def test_files_that_cannot_be_graded_get_a_one_line_reason(data, filename, words):
    with pytest.raises(load.LoadError) as raised:
        load.load_bytes(data, filename=filename)
    assert words in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("filename, kind, stem", [
    ("alice.py", ".py", "alice"), ("Alice.PY", ".py", "Alice"), ("bob.IPYNB", ".ipynb", "bob"),
    ("carol.ipynb.txt", ".ipynb", "carol"), ("dave.py.JSON", ".py", "dave"), ("hw.v2.py", ".py", "hw.v2"),
    ("notes.txt", None, "notes"), ("hw.json", None, "hw"), ("archive.py.zip", None, "archive.py"),
    ("Makefile", None, "Makefile"),
])
def test_a_file_name_says_what_it_holds_in_any_case_and_after_a_download_suffix(filename, kind, stem):
    assert load.source_kind(filename) == kind
    assert load.source_stem(filename) == stem


def test_a_renamed_notebook_is_graded_as_one_and_the_student_is_told():
    program = load.load_bytes(notebook("def f():\n    return 1"), filename="hw.ipynb.txt")
    assert "def f()" in program.source
    assert program.warnings[0].startswith("hw.ipynb.txt was read as a notebook: its name ends in .txt")
    assert load.load_bytes(b"def f():\n    return 1\n", filename="HW.PY").warnings == ()


def test_a_bad_notebook_is_an_error_result_not_a_traceback(tmp_path):
    path = tmp_path / "student.ipynb"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = pipeline.grade_file(path, Settings())
    assert result.status.value == "error" and "binary" in result.message


def test_a_py_file_keeps_its_own_line_numbers():
    program = load.load_bytes(b"import numpy as np\nprint('x')\n\ndef f():\n    return 1\n", filename="s.py")
    assert program.source.splitlines()[3] == "def f():"
    assert program.relabel("boom (line 4)") == "boom (line 4)"


def test_a_notebook_exported_as_py_that_does_not_parse_is_loaded_cell_by_cell():
    text = ("#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\nimport numpy as np\n"
            "get_ipython().run_line_magic('matplotlib', 'inline')\n\n\n# In[2]:\n\n\nprint 'scratch'\n\n\n"
            "# In[3]:\n\n\ndef f():\n    return 1 / 0\n")
    program = load.load_bytes(text.encode(), filename="exported.py")
    assert "def f():" in program.source and "get_ipython" not in program.source
    assert any(warning.startswith("the cell at line 11 (# In[2]:) does not parse") for warning in program.warnings)
    assert program.source.splitlines()[19:21] == ["def f():", "    return 1 / 0"]  # the file's own lines



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
    with mock.patch.object(load.ast, "unparse", side_effect=AssertionError("definitions_only fell back to unparse")):
        source, dropped = load.definitions_only(text, tree)
    cut = ast.parse(source)
    assert len(load.python_lines(source)) == len(load.python_lines(text))
    assert dropped == sum(not load.keeps(statement) for statement in tree.body)
    kept = [(type(node).__name__, node.lineno) for node in tree.body if load.keeps(node)]
    assert [(type(node).__name__, node.lineno) for node in cut.body if not isinstance(node, ast.Pass)] == kept


def test_a_notebook_whose_later_cell_starts_with_a_future_import_is_graded(tmp_path):
    source = (SUBMISSIONS / "correct_course_style.py").read_text()
    path = tmp_path / "future.ipynb"
    path.write_bytes(notebook("import numpy as np", "from __future__ import annotations\n" + source))
    result = pipeline.grade_file(path, Settings())
    assert result.status is Status.PASS and not any("__future__" in warning for warning in result.warnings), result


def test_a_name_only_unrun_top_level_code_sets_is_explained_where_it_was_set():
    text = ("import numpy as np\nm = np.ones(3).size\nfor k in range(2):\n    step = k\n"
            "def f():\n    return m + step + other\n")
    program = load.load_bytes(text.encode(), filename="globals.py")
    explained = program.relabel("NameError: name 'm' is not defined (line 6)")
    assert explained.startswith("NameError: name 'm' is not defined (line 6); ")
    assert "m is set only by top-level code at line 2, which gradgrade does not run" in explained
    assert "line 3" in program.relabel("NameError: name 'step' is not defined (line 6)")
    assert program.relabel("NameError: name 'other' is not defined (line 6)") == (
        "NameError: name 'other' is not defined (line 6)")  # set nowhere: nothing to add
    ran = load.load_bytes(text.encode(), filename="globals.py", run_all=True)
    assert ran.relabel("NameError: name 'm' is not defined (line 6)") == "NameError: name 'm' is not defined (line 6)"


def test_a_notebook_names_the_cell_of_the_unrun_code():
    program = load.load_bytes(notebook("import numpy as np", "scale = np.random.default_rng(0).random()",
                                       "def f():\n    return scale"),
                              filename="nb.ipynb")
    explained = program.relabel("NameError: name 'scale' is not defined (line 6)")
    assert "(code cell 3, line 2)" in explained and "scale is set only by top-level code at code cell 2, line 1" in explained

SOURCES = [pytest.param(path, id=str(path.relative_to(SUBMISSIONS))) for path in sorted(SUBMISSIONS.rglob("*"))
           if path.suffix in load.SUFFIXES]
ODD = {
    "blanked": b"import numpy as np\nrun()\n\ndef f(x):\n    y = 2 * x\n    return y\nprint(f(1))\n",
    "shared-line": b"x = 1; run()\ndef f():\n    return x\n",
    "continued": b"x = 1; run() \\\n\ndef f():\n    return x\n",
    "form-feed": b"run()\ndef f():\n    s = 'a\x0cb'\n    t = 1\n    return s, t\n",
    "crlf": b"run()\r\ndef f():\r\n    t = 1\r\n    return t\r\n",
    "line-separator": "run()\ndef f():\n    s = 'a\u2028b\x85c\x1cd'\n    return s\n".encode(),
    "lone-cr": b"run()\rdef f():\r    return 'a\x0bb'\r",
}


@pytest.mark.parametrize("name", ["form-feed", "line-separator", "lone-cr"])
def test_characters_python_does_not_break_lines_at_stay_inside_their_line(name):
    program = load.load_bytes(ODD[name], filename="odd.py")
    namespace: dict = {}
    exec(compile(program.source, "odd.py", "exec"), namespace)  # our own test source, not a submission
    expected: dict = {}
    exec(compile(ODD[name].decode().replace("run()", "", 1), "odd.py", "exec"), expected)
    assert namespace["f"]() == expected["f"]()
    assert "run()" not in program.source


def test_a_notebook_cell_with_a_form_feed_in_a_string_keeps_its_lines():
    data = notebook("import numpy as np", "def f():\n    s = 'a\x0cb'\n    return s\n\ndef g():\n    return 1 / 0")
    program = load.load_bytes(data, filename="odd.ipynb")
    namespace: dict = {}
    exec(compile(program.source, "odd.ipynb", "exec"), namespace)  # our own test cells, not a submission
    assert namespace["f"]() == "a\x0cb"
    line = next(number for number, text in enumerate(program.source.split("\n"), start=1) if "1 / 0" in text)
    assert program.locate(line) == "code cell 2, line 6"


@pytest.mark.parametrize("run_all", [pytest.param(False, id="definitions"), pytest.param(True, id="run-all")])
@pytest.mark.parametrize("path", SOURCES + [pytest.param(name, id=name) for name in ODD])
def test_the_remembered_tree_is_what_parsing_the_program_gives(path, run_all):
    if isinstance(path, Path):
        try:
            program = load.load(path, run_all=run_all)
        except load.LoadError:
            return
    else:
        program = load.load_bytes(ODD[path], filename="odd.py", run_all=run_all)
    parsed = ast.dump(ast.parse(program.source), include_attributes=True)
    assert ast.dump(load.syntax_tree(program.source), include_attributes=True) == parsed


def test_a_loaded_programs_tree_is_not_parsed_again():
    program = load.load_bytes(ODD["blanked"], filename="odd.py")
    assert load.syntax_tree(program.source) is load.syntax_tree(program.source)
    assert load.syntax_tree("x = 1\n") is not load.syntax_tree("x = 1\n")


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


def cells_parsed_one_by_one_then_together(sources: list[str], *, run_all: bool) -> load.Program:
    """load_cells the plain way, the reference for its speed-ups: each cell parsed alone, then the program again."""
    lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    warnings: list[str] = []
    magics: list[str] = []
    skipped: list[load.Skipped] = []
    for number, source in enumerate(sources, start=1):
        if not source.strip():
            continue
        cell, notes, problem = load._parsed_cell(source)
        if problem is not None:
            where = f"code cell {number} ({load._first_line(source)})"
            skipped.append(load.Skipped(f"code cell {number}", load._first_line(source),
                                        tuple(load.defined_names(source)), problem, source, 1, number))
            warnings.append(f"{where} does not parse and was skipped: {problem}")
            continue
        magics += notes
        cell_lines = load._LINE_BREAK.split(cell)
        lines += cell_lines + [""]
        line_map += [(number, line) for line in range(1, len(cell_lines) + 1)] + [(number, len(cell_lines) + 1)]
    text, unrun = load._joined_cells(lines, magics, warnings, filename="nb.ipynb", cells="the notebook's cells",
                                     run_all=run_all)
    if len(load.python_lines(text)) != len(line_map):
        line_map = []
    return load.Program(text, "nb.ipynb", tuple(warnings), tuple(line_map), unrun, tuple(skipped))


def loaded(load_program) -> tuple:
    """What loading gave: the program and the tree remembered for it, or the LoadError's message."""
    try:
        program = load_program()
    except load.LoadError as error:
        return ("LoadError", str(error))
    return program, ast.dump(load.syntax_tree(program.source), include_attributes=True)


@hypothesis_settings(max_examples=150, deadline=None)
@given(cell_sources(), st.booleans())
def test_cells_parsed_in_place_give_the_program_and_tree_of_cells_parsed_then_joined(sources, run_all):
    expected = loaded(lambda: cells_parsed_one_by_one_then_together(sources, run_all=run_all))
    assert loaded(lambda: load.load_cells(sources, filename="nb.ipynb", run_all=run_all, warnings=[])) == expected


# --- encodings (PEP 263, byte order marks) -------------------------------------------------------------

BODY = "def f():\n    return 'Zoë, café'\n"


@pytest.mark.parametrize("data", [
    pytest.param(("# -*- coding: latin-1 -*-\n# Zoë Müller\n" + BODY).encode("latin-1"), id="latin-1-declared"),
    pytest.param(("# coding: cp1252\n# “résumé” — 5 €\n" + BODY).encode("cp1252"), id="cp1252-declared"),
    pytest.param(("#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-15 :\n" + BODY).encode("iso-8859-15"),
                 id="declared-on-line-2"),
    pytest.param(b"\xef\xbb\xbf" + BODY.encode(), id="utf-8-bom"),
    pytest.param(BODY.encode("utf-16"), id="utf-16-bom-powershell"),
    pytest.param(codecs.BOM_UTF16_BE + BODY.encode("utf-16-be"), id="utf-16-be-bom"),
    pytest.param(BODY.encode("utf-32"), id="utf-32-bom"),
])
def test_a_source_is_read_in_the_encoding_it_declares(data):
    program = load.load_bytes(data, filename="s.py")
    namespace: dict = {}
    exec(compile(program.source, "s.py", "exec"), namespace)
    assert namespace["f"]() == "Zoë, café"


def test_a_notebook_with_a_byte_order_mark_is_read():
    data = notebook("def f():\n    return 'Zoë'")
    for encoded in (b"\xef\xbb\xbf" + data, data.decode().encode("utf-16")):
        assert "def f():" in load.load_bytes(encoded, filename="nb.ipynb").source


@pytest.mark.parametrize("data, words", [
    pytest.param("x = 1\ny = 'Zoë'\n".encode("latin-1"), "line 2, column 8", id="undeclared-latin-1"),
    pytest.param("x = 'é'\ny = 'Zoë'\n".encode("utf-8")[:-4] + b"\xeb'\n", "line 2, column 8", id="columns-count-characters"),
    pytest.param("# coding: ascii\nx = 'é'\n".encode("utf-8"), "ascii text, as it declares", id="declared-wrongly"),
    pytest.param(b"# coding: klingon\nx = 1\n", "unknown encoding: klingon", id="unknown-encoding"),
    pytest.param(b"\r\r" + "x = 'é'".encode("latin-1"), "line 3, column 6", id="cr-only-lines"),
])
def test_a_source_that_cannot_be_decoded_names_the_line_and_column(data, words):
    with pytest.raises(load.LoadError) as raised:
        load.load_bytes(data, filename="s.py")
    assert words in str(raised.value) and "offset" not in str(raised.value)


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
    assert load.kept_statements(tree.body) == [True, True, True, kept]


def test_a_def_whose_default_names_a_computed_constant_is_graded():
    text = ("import numpy as np\nEPS = np.float64(1e-7)\n\n"
            "def gradient_check_n(parameters, gradients, X, Y, epsilon=EPS):\n    return epsilon\n")
    program = load.load_bytes(text.encode(), filename="s.py")
    namespace: dict = {}
    exec(compile(program.source, "s.py", "exec"), namespace)
    assert namespace["gradient_check_n"](None, None, None, None) == 1e-7 and not program.warnings


# --- a .py that does not parse as a whole ----------------------------------------------------------------

PLAIN = ("import numpy as np\n\n\ndef backward_propagation_n(X, Y, cache):\n    return {}\n\n\n"
         "def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):\n    total = 0\n"
         "    for i in range(3):\n\tif i:\n            total += i\n    return total\n\n\n"
         "def forward_propagation_n(X, Y, parameters):\n    return 0.0, None\n")


@pytest.mark.parametrize("newline", [pytest.param("\n", id="lf"), pytest.param("\r\n", id="crlf"),
                                     pytest.param("\r", id="cr-only")])
def test_a_py_that_does_not_parse_keeps_every_function_that_does(newline):
    program = load.load_bytes(PLAIN.replace("\n", newline).encode(), filename="s.py")
    lines = load.python_lines(program.source)
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
    with pytest.raises(load.LoadError, match="does not parse at line 1"):
        load.load_bytes(b"def f(:\n    pass\n", filename="s.py")


def test_a_skipped_cell_of_an_exported_py_names_lines_of_the_file():
    text = "# In[1]:\n\nimport numpy as np\n\n# In[2]:\n\ndef f():\n    x = (\n    return 1\n"
    program = load.load_bytes(text.encode(), filename="export.py")
    assert program.warnings[0].startswith("the cell at line 5 (# In[2]:) does not parse and was skipped: "
                                          "SyntaxError at line 8:")
    assert program.skipped[0].names == ("f",)
    assert load.python_lines(program.source)[2] == "import numpy as np"  # the file's line 3: nothing shifted
