"""A student's function on their page: highlighted line for line, marks on the lines named, long code folded."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from pygments.token import Token

from grader.report import listing
from grader.results import CaseResult, CheckResult, Diagnosis, FunctionSource, SourceStatus, Status

BODY = ["def backward_propagation_n(X, Y, cache):", "    m = X.shape[1]", "    dZ3 = A3 - Y",
        "    dW3 = 1. / m * np.dot(dZ3, A2.T) * 2", "    return {'dW3': dW3}"]


def check(source: FunctionSource, *, diagnosis: tuple[Diagnosis, ...] = (), message: str = "checked",
          cases: tuple[CaseResult, ...] = ()) -> CheckResult:
    return CheckResult("backward_propagation_n", Status.FAIL, 0.5, 1e-7, message, diagnosis=diagnosis, cases=cases,
                       source=source)


def shown_lines(shown: listing.Listing) -> list[listing.Line]:
    return [line for block in shown.blocks for line in block.lines]


def test_a_diagnosis_marks_its_line_in_the_students_numbers():
    source = FunctionSource(SourceStatus.FOUND, "\n".join(BODY), line=12, program_line=40)
    shown = listing.listing(check(source, diagnosis=(Diagnosis("scale-double-gradient-6", "scale-double-gradient",
                                                               "dW3 is twice the true gradient", ("dW3",), 43),)))
    marked = [line for line in shown_lines(shown) if line.marks]
    assert [(line.number, line.where) for line in marked] == [(15, "line 15")]
    assert marked[0].marks[0].text == "dW3 is twice the true gradient"
    assert marked[0].marks[0].label == "scale-double-gradient-6"
    assert shown.where == "lines 12–16" and shown.marked == 1


@pytest.mark.parametrize("cell, message, marked", [
    pytest.param(None, "on case course: raised ValueError: shapes (line 14)", [14], id="py-line"),
    pytest.param(4, "on case course: raised KeyError: 'A3' (code cell 4, line 3)", [3], id="cell-line"),
    pytest.param(5, "on case course: raised KeyError: 'A3' (code cell 4, line 3)", [], id="another-cell"),
    pytest.param("In [4]", "on case course: raised KeyError: 'A3' (In [4], line 3)", [3], id="jupyter-cell"),
    pytest.param("In [4]", "on case course: raised KeyError: 'A3' (In [14], line 3)", [], id="another-jupyter-cell"),
    pytest.param(None, "raised in a helper (line 90)", [], id="outside-the-function"),
])
def test_an_error_marks_the_line_it_names_when_that_line_is_shown(cell, message, marked):
    number, name = (4, cell) if isinstance(cell, str) else (cell, "")
    source = FunctionSource(SourceStatus.FOUND, "\n".join(BODY), line=1 if cell else 12, cell=number, program_line=30,
                            cell_name=name)
    shown = listing.listing(check(source, message=message, cases=(CaseResult("course", Status.ERROR, None, message),)))
    lines = [line for line in shown_lines(shown) if line.marks]
    assert [line.number for line in lines] == marked
    for line in lines:
        assert len(line.marks) == 1 and "raised" in line.marks[0].text and "(line" not in line.marks[0].text


def test_a_definition_that_does_not_parse_marks_where_the_parser_stopped():
    source = FunctionSource(SourceStatus.UNPARSED, "def f(x):\n    y = (x\n    return y", line=2, cell=3,
                            note="code cell 3 does not parse: SyntaxError at line 3: '(' was never closed",
                            problem_line=3)
    line = next(line for line in shown_lines(listing.listing(check(source))) if line.marks)
    assert (line.where, line.marks[0].kind) == ("code cell 3, line 3", "problem")


def test_a_long_function_folds_to_the_marked_lines_and_loses_no_line():
    body = ["def backward_propagation_n(X, Y, cache):"] + [f"    v{index} = {index}" for index in range(1, 80)]
    source = FunctionSource(SourceStatus.FOUND, "\n".join(body), line=1, program_line=1)
    shown = listing.listing(check(source, diagnosis=(Diagnosis("m", "op", "hint", (), 41),)))
    assert [line.number for line in shown_lines(shown)] == list(range(1, 81))  # every line, folded or not
    open_lines = [line.number for block in shown.blocks if not block.folded for line in block.lines]
    assert open_lines == [1] + list(range(41 - listing.CONTEXT, 41 + listing.CONTEXT + 1))
    assert [block.folded for block in shown.blocks] == [False, True, False, True]


def test_a_short_function_and_one_without_marks_are_not_folded():
    body = [f"    v{index} = {index}" for index in range(60)]
    shown = listing.listing(check(FunctionSource(SourceStatus.FOUND, "\n".join(body), program_line=1)))
    assert len(shown.blocks) == 1 and not shown.blocks[0].folded


def test_no_source_no_listing():
    assert listing.listing(check(None)) is None
    assert listing.listing(check(FunctionSource(SourceStatus.MISSING, note="no function is named f"))) is None


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=200))
def test_every_line_is_kept_and_nothing_invisible_or_reordering_reaches_the_page(text):
    html = listing.highlighted(text)
    assert len(html) == len(text.split("\n"))
    for line in html:
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]", line)
        assert "<script" not in line and not re.search(r"<(?!/?span[ >])", line)  # only Pygments' spans


def test_hostile_characters_become_visible_stand_ins():
    assert listing.visible("a\x00b\u202ec\x1b") == "a\u2400b\u27e8U+202E\u27e9c\u241b"
    assert listing.visible("tab\tstays") == "tab\tstays"


def test_the_stylesheet_styles_tokens_inside_listings_only():
    rules = str(listing.stylesheet()).splitlines()
    assert rules and all(rule.startswith(".listing .src .") for rule in rules)


SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


@pytest.mark.parametrize("path", sorted(SUBMISSIONS.glob("**/*.py")), ids=lambda path: path.name)
def test_python_tokens_read_every_sample_file_and_join_back_into_it(path):
    text = path.read_text()
    tokens = listing.python_tokens(text)
    assert tokens is not None and "".join(word for _, word in tokens) == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("abdefx_ (),:[]{}=+-*/.\\'\"#\n\t01e") + ["def ", "class ", "f'", '"""', "    "]),
                max_size=60).map("".join))
def test_python_tokens_join_back_into_the_text_or_give_up(text):
    tokens = listing.python_tokens(text)
    assert tokens is None or "".join(word for _, word in tokens) == text
    assert len(listing.highlighted(text)) == len(text.split("\n"))


def test_python_tokens_name_what_pygments_would():
    tokens = dict((word, kind) for kind, word in listing.python_tokens(
        "def f(x, y=None):\n    return len(x) * 2.5  # why\n    s = 'text'\n"))
    assert tokens["def"] is Token.Keyword and tokens["f"] is Token.Name.Function and tokens["None"] is Token.Keyword.Constant
    assert tokens["len"] is Token.Name.Builtin and tokens["2.5"] is Token.Number and tokens["# why"] is Token.Comment
    assert tokens["'text'"] is Token.String and tokens["x"] is Token.Name and tokens["("] is Token.Punctuation
    assert listing.python_tokens("def f(:\n    x = (1,\n") is None  # left to Pygments' lexer
