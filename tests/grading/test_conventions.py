"""Choosing the accepted convention a submission is judged by, and the one a rubric fixes (grader/grading/conventions.py)."""
import types

import pytest

from grader import spec as api
from grader.grading import conventions, score
from grader.numerics.check import BlockCheck
from grader.results import CaseResult, Status

MODULE = types.ModuleType("spec_module")
exec("def full(W):\n    pass\n\ndef half(W):\n    '''0.5 * reg * sum(W**2).'''\n", MODULE.__dict__)
DECLARED = api.Loss("full", wrt="W", conventions=("half",))


def _verdicts(passing: dict[str, list[bool]]):
    """Per case, a verdict whose blocks pass as given (part name -> per-case pass)."""
    cases = len(next(iter(passing.values())))
    found = []
    for index in range(cases):
        blocks = {part: BlockCheck(part, flags[index], 0.0, "ok" if flags[index] else "wrong")
                  for part, flags in passing.items()}
        status = Status.PASS if all(block.passed for block in blocks.values()) else Status.FAIL
        found.append((CaseResult(f"c{index}", status, 0.0, "m"), blocks))
    return found


def _judge(table):
    return lambda name: _verdicts(table[name])


def test_a_submission_passing_the_reference_is_judged_once_by_it():
    asked = []
    table = {None: {"loss": [True, True], "dW": [True, True]}}
    choice = conventions.choose(DECLARED, lambda name: asked.append(name) or _verdicts(table[name]), module=MODULE)
    assert (choice.followed, choice.note, asked) == (None, "", [None])


def test_the_convention_passing_every_case_is_followed_and_named_with_its_docstring():
    table = {None: {"loss": [True, False], "dW": [True, False]}, "half": {"loss": [True, True], "dW": [True, True]}}
    choice = conventions.choose(DECLARED, _judge(table), module=MODULE)
    assert choice.followed == "half"
    assert choice.note == "it follows the convention of half (0.5 * reg * sum(W**2)), which the assignment accepts"


def test_parts_each_on_their_own_convention_are_named_as_the_mix():
    table = {None: {"loss": [True, True], "dW": [True, False]}, "half": {"loss": [True, False], "dW": [True, True]}}
    choice = conventions.choose(DECLARED, _judge(table), module=MODULE)
    assert choice.followed is None  # a tie: the reference's verdicts
    assert choice.note == ("loss follows the reference's convention; dW follows the convention of half "
                           "(0.5 * reg * sum(W**2)): what it returns must follow one convention")


def test_a_part_wrong_under_every_convention_is_a_plain_bug_not_a_mix():
    table = {None: {"loss": [True, True], "dW": [False, False]}, "half": {"loss": [True, False], "dW": [False, False]}}
    assert conventions.choose(DECLARED, _judge(table), module=MODULE).note == ""


def test_the_rubric_fixes_one_convention():
    table = {None: {"loss": [True, True], "dW": [True, True]}, "half": {"loss": [True, False], "dW": [True, False]}}
    choice = conventions.choose(DECLARED, _judge(table), module=MODULE, fixed="half")
    assert choice.followed == "half" and choice.verdicts[1][0].status is Status.FAIL
    assert choice.note == ("it follows the reference's convention, but the rubric accepts only the convention of "
                           "half (0.5 * reg * sum(W**2))")
    choice = conventions.choose(DECLARED, _judge(table), module=MODULE, fixed="full")
    assert choice.followed is None and choice.note == "it follows the reference's convention, which the rubric requires"


def test_fixed_by_reads_only_names_the_function_accepts():
    assert conventions.fixed_by({"conventions": {"full": "half"}}, DECLARED) == "half"
    assert conventions.fixed_by({"conventions": {"full": "other"}}, DECLARED) is None
    assert conventions.fixed_by(None, DECLARED) is None


@pytest.mark.parametrize("table, words", [
    ({"other": "half"}, "rubric: conventions.other: not a function with conventions (known: full)"),
    ({"full": "quarter"}, "rubric: conventions.full must be one of 'full', 'half', got 'quarter'"),
])
def test_check_rubric_names_the_key(table, words):
    with pytest.raises(score.RubricError, match="^" + words.replace("(", r"\(").replace(")", r"\)") + "$"):
        conventions.check_rubric([DECLARED], {"conventions": table})
    conventions.check_rubric([DECLARED], {"conventions": {"full": "half"}})
    conventions.check_rubric([DECLARED], None)


def test_the_rubric_file_accepts_a_conventions_table_of_names_only():
    assert score.rubric_from_dict({"conventions": {"svm_loss_naive": "svm_loss_naive_half_reg"}}) == score.Rubric()
    with pytest.raises(score.RubricError, match="maps a function to the name of the convention"):
        score.rubric_from_dict({"conventions": {"svm_loss_naive": 0.5}})
