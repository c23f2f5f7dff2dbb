"""Student ids read out of an LMS's file and folder names: the presets and any regular expression."""
import pytest

from grader.batch.student_ids import PRESETS, BadPattern, IdPattern


@pytest.mark.parametrize("text", ["(", "[a-"])
def test_an_id_pattern_that_is_no_regular_expression_is_refused_in_one_line(text):
    with pytest.raises(BadPattern, match="is not a regular expression .* nor one of canvas, moodle, blackboard"):
        IdPattern.parse(text)


@pytest.mark.parametrize("pattern, name, student", [
    ("canvas", "doejane_1234_56789_gc.ipynb", "doejane_1234"),
    ("canvas", "doejane_LATE_1234_56789_gc.ipynb", "doejane_1234"),
    ("canvas", "gc.ipynb", None),
    ("moodle", "Jane Doe_123456_assignsubmission_file_", "Jane Doe_123456"),
    ("moodle", "Jane Doe_123456_assignsubmission_file_gc.ipynb", "Jane Doe_123456"),
    ("blackboard", "Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb", "jdoe"),
    ("blackboard", "jdoe.ipynb", None),
    (r"s\d+", "hw_s0042.py", "s0042"),  # no group: the whole match
    (r"^(\w+)?-", "-x.py", None),  # a group that matched nothing gives no id
])
def test_the_student_id_is_the_groups_joined_or_the_whole_match(pattern, name, student):
    assert IdPattern.parse(pattern).student(name) == student


def test_a_preset_name_is_its_pattern_and_anything_else_a_regular_expression():
    assert {name: IdPattern.parse(name).regex.pattern for name in PRESETS} == PRESETS
    assert IdPattern.parse("canvas-ish").regex.pattern == "canvas-ish"
