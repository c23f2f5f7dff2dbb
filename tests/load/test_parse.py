"""Lines as Python numbers them, and the tree loading remembers for later steps."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.load import kinds
from grader.load import loaded
from grader.load import parse
from grader.load import program as load

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
SOURCES = [pytest.param(path, id=str(path.relative_to(SUBMISSIONS))) for path in sorted(SUBMISSIONS.rglob("*"))
           if path.suffix in kinds.SUFFIXES]
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


@pytest.mark.parametrize("run_all", [pytest.param(False, id="definitions"), pytest.param(True, id="run-all")])
@pytest.mark.parametrize("path", SOURCES + [pytest.param(name, id=name) for name in ODD])
def test_the_remembered_tree_is_what_parsing_the_program_gives(path, run_all):
    if isinstance(path, Path):
        try:
            program = load.load(path, run_all=run_all)
        except loaded.LoadError:
            return
    else:
        program = load.load_bytes(ODD[path], filename="odd.py", run_all=run_all)
    parsed = ast.dump(ast.parse(program.source), include_attributes=True)
    assert ast.dump(parse.syntax_tree(program.source), include_attributes=True) == parsed


def test_a_loaded_programs_tree_is_not_parsed_again():
    program = load.load_bytes(ODD["blanked"], filename="odd.py")
    assert parse.syntax_tree(program.source) is parse.syntax_tree(program.source)
    assert parse.syntax_tree("x = 1\n") is not parse.syntax_tree("x = 1\n")
