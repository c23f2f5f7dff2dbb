"""Loading a submission's file: what it holds, why it cannot be graded, and its lines named in the student's terms."""
from __future__ import annotations

import pytest

from grader import assignments
from grader.grading import pipeline
from grader.load import loaded
from grader.load import program as load
from grader.settings import Settings
from shapes import notebook


def test_the_last_definition_wins_and_top_level_calls_are_dropped():
    data = notebook("def f():\n    return 1", "f()\nprint('side effect')", "def f():\n    return 2")
    program = load.load_bytes(data, filename="s.ipynb")
    namespace: dict = {}
    exec(compile(program.source, "s.ipynb", "exec"), namespace)  # our own test text, not student code
    assert namespace["f"]() == 2 and "side effect" not in program.source
    assert "side effect" in load.load_bytes(data, filename="s.ipynb", run_all=True).source


def test_a_diagnosis_points_at_the_students_cell_and_line(submissions_dir):
    result = pipeline.grade_file(submissions_dir / "planted_bugs.ipynb", Settings(), assignment=assignments.get("three_layer"))
    hints = {d.parameters: d.where for d in result.check("backward_propagation_n").diagnosis}
    assert hints[("dW2",)] == "code cell 4, line 11" and hints[("db1",)] == "code cell 4, line 17"


def test_sandbox_line_numbers_become_cells():
    data = notebook("import numpy as np", "%matplotlib inline\n\ndef backward_propagation_n(X, Y, cache):\n"
                    "    m = X.shape[1]\n    return 1 / 0")
    program = load.load_bytes(data, filename="s.ipynb")
    line = next(index for index, text in enumerate(program.source.splitlines(), 1) if "1 / 0" in text)
    assert program.locate(line) == "code cell 2, line 5"
    result = pipeline.grade_program(program, "s", Settings(), assignment=assignments.get("three_layer"))
    backward = next(check for check in result.checks if check.name == "backward_propagation_n")
    assert "ZeroDivisionError" in backward.message and "(code cell 2, line 5)" in backward.message


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
    with pytest.raises(loaded.LoadError) as raised:
        load.load_bytes(data, filename=filename)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_a_renamed_notebook_is_graded_as_one_and_the_student_is_told():
    program = load.load_bytes(notebook("def f():\n    return 1"), filename="hw.ipynb.txt")
    assert "def f()" in program.source
    assert program.warnings[0].startswith("hw.ipynb.txt was read as a notebook: its name ends in .txt")
    assert load.load_bytes(b"def f():\n    return 1\n", filename="HW.PY").warnings == ()


def test_a_bad_notebook_is_an_error_result_not_a_traceback(tmp_path):
    path = tmp_path / "student.ipynb"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
    assert result.status.value == "error" and "binary" in result.message


def test_a_py_file_keeps_its_own_line_numbers():
    program = load.load_bytes(b"import numpy as np\nprint('x')\n\ndef f():\n    return 1\n", filename="s.py")
    assert program.source.splitlines()[3] == "def f():"
    assert program.relabel("boom (line 4)") == "boom (line 4)"


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
