"""The terminal report: messages wrapped, never cut; only the per-parameter table shortens, and then the whole text follows."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grader.report import render
from grader.results import CheckResult, Diagnosis, ParameterResult, Status, SubmissionResult

# The ends of real messages are what tell the student what to do.
CHECKER_MESSAGE = ("caught 6 of 6 known bugs; rejected the correct gradients (difference 0.333); values agree with "
                   "the course method on 0 of 7. its values are those of a gradapprox half the true one (0.333 on "
                   "reference, where the course method gives 1.19e-07): thetaminus starts from thetaplus instead of "
                   "a fresh copy of theta")
WARNING = ("code cell 12 (line 3) does not parse and was skipped: IndentationError: unindent does not match any outer "
           "indentation level; the functions it defines are graded as missing: fix the indentation of that line")
HINT = ("db1 is 4 times the true gradient on every case: the 1/m factor is applied as 4/m, look at how db1 is "
        "averaged over the m examples of the batch and compare it with the course's formula")
PARAMETER = ("dW2 is twice the true gradient on every case (the worst entry [1, 2] differs by 0.0421, max relative "
             "error 1.0): look for a factor 2 in the line that computes dW2")


def result(*, message: str = CHECKER_MESSAGE, warnings=(WARNING,), parameter: str = PARAMETER) -> SubmissionResult:
    backward = CheckResult("backward_propagation_n", Status.FAIL, 0.3, 1e-7, "1 of 6 gradients wrong",
                           parameters=(ParameterResult("dW1", Status.PASS, 1e-9, "ok"),
                                       ParameterResult("dW2", Status.FAIL, 0.3, parameter)),
                           diagnosis=(Diagnosis("scale-quadruple-m-6", "scale-quadruple-m", HINT, ("db1",), 21),),
                           points=5, max_points=6)
    checker = CheckResult("gradient_check_n", Status.FAIL, 0.333, 2e-7, message, points=1, max_points=4)
    return SubmissionResult("alice", "three_layer", Status.FAIL, 6, 10, (backward, checker), warnings=tuple(warnings))


def words(text: str) -> list[str]:
    return text.split()


def test_the_checker_message_and_warnings_keep_their_actionable_end():
    report = render.text(result())
    assert "…" not in report.split("parameter")[0]
    flat = " ".join(report.split())
    for text in (CHECKER_MESSAGE, WARNING, HINT):
        assert " ".join(words(text)) in flat
    assert "instead of a fresh copy of theta" in flat
    assert "fix the indentation of that line" in flat


def test_report_lines_are_wrapped_to_the_terminal_width_except_the_table():
    lines = render.text(result()).splitlines()
    table = [line for line in lines if line.startswith(("dW1 ", "dW2 ", "parameter", "-----"))]
    assert all(len(line) <= render.WRAP_WIDTH for line in lines if line not in table)
    assert len([line for line in lines if line.startswith("warning: ")]) == 1  # one warning, several lines


def test_a_parameter_message_cut_in_the_table_is_printed_whole_below_it():
    long = PARAMETER + " " + "and every other entry of the same row is off by the same factor of two as well"
    report = render.text(result(parameter=long))
    table_row = next(line for line in report.splitlines() if line.startswith("dW2 "))
    assert table_row.endswith("…")
    assert " ".join(words(long)) in " ".join(report.split("dW2: ", 1)[1].split())


def test_a_short_parameter_message_is_not_printed_twice():
    assert "dW2: " not in render.text(result(parameter="dW2 is twice the true gradient"))


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60), min_size=1, max_size=40))
def test_wrapping_keeps_every_word_in_order(pieces):
    text = " ".join(pieces)
    lines = render.wrap(text, first="warning: ", rest="  ")
    assert words(" ".join(lines)) == ["warning:"] + words(text)
    # Over the width only where one word alone is longer than it.
    assert all(len(line) <= render.WRAP_WIDTH or len(line.split()) <= 2 for line in lines)
