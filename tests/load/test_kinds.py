"""What a file holds, by its name or, where they differ, its text."""
from __future__ import annotations

import pytest

from grader.load import kinds
from grader.load import notebook
from grader.load import program as load
from shapes import notebook

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


@pytest.mark.parametrize("filename, kind, stem", [
    ("alice.py", ".py", "alice"), ("Alice.PY", ".py", "Alice"), ("bob.IPYNB", ".ipynb", "bob"),
    ("carol.ipynb.txt", ".ipynb", "carol"), ("dave.py.JSON", ".py", "dave"), ("hw.v2.py", ".py", "hw.v2"),
    ("notes.txt", None, "notes"), ("hw.json", None, "hw"), ("archive.py.zip", None, "archive.py"),
    ("Makefile", None, "Makefile"),
])
def test_a_file_name_says_what_it_holds_in_any_case_and_after_a_download_suffix(filename, kind, stem):
    assert kinds.source_kind(filename) == kind
    assert kinds.source_stem(filename) == stem
