"""Which of a student's several files is graded: version names, attempt dates, the rule and its overrides."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.grading import picking


@pytest.mark.parametrize("stem, base, number, copy", [
    ("gc_v2", "gc", 2, False), ("gc_v1", "gc", 1, False), ("Gradient_Checking-Copy1", "Gradient_Checking", 0, True),
    ("gc (1)", "gc", 1, False), ("gc - Copy (2)", "gc", 2, True), ("gc_v2_final", "gc", 2, False),
    ("alice", "alice", 0, False), ("student_01", "student_01", 0, False), ("hw1", "hw1", 0, False),
])
def test_a_versions_name_is_its_base_name_with_a_version_number(stem, base, number, copy):
    assert (picking.base_name(stem), picking.version_number(stem), picking.is_copy(stem)) == (base, number, copy)


@given(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.integers(0, 99),
       st.sampled_from(["_v{}", "-v{}", " (v{})", "_version{}", "-Copy{}", " ({})"]))
def test_any_versioned_name_is_a_version_of_its_base(stem, number, ending):
    versioned = stem + ending.format(number)
    if ending != " (v{})":
        assert picking.base_name(versioned) == picking.base_name(stem)


def test_blackboards_attempt_date_is_read_from_the_name():
    early = picking.attempt_time("Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb")
    late = picking.attempt_time("Gradient Checking_jdoe_attempt_2026-03-05-09-00-00_gc.ipynb")
    assert early is not None and late is not None and late - early == 4 * 86_400 - 4_830
    assert picking.attempt_time("gc.ipynb") is None and picking.attempt_time("x_attempt_2026-13-45.py") is None


def test_the_rubric_table_and_the_command_line_make_one_pick():
    pick = picking.from_table({"rule": "name-pattern", "pattern": "final", "files": {"alice": "gc_v1.ipynb"}},
                              files=["bob=hw/gc.py", "alice=gc_v2.ipynb"])
    assert pick.rule is picking.Rule.NAME_PATTERN and pick.matches("alice/gc_final.py")
    assert dict(pick.files) == {"alice": "gc_v2.ipynb", "bob": "hw/gc.py"}
    assert picking.from_table(None, rule="newest", pattern=None).rule is picking.Rule.NEWEST


@pytest.mark.parametrize("table, options, message", [
    ({"rule": "oldest"}, {}, "pick rule 'oldest': expected newest or name-pattern"),
    ({"rule": "name-pattern"}, {}, "needs a pattern"),
    ({}, {"rule": "name-pattern", "pattern": "("}, "is not a regular expression"),
    ({"file": {}}, {}, "unknown key pick.file"),
    ({"files": {"alice": 3}}, {}, "must map student ids to paths"),
    ({}, {"files": ["alice"]}, "expected STUDENT=PATH"),
])
def test_a_pick_that_cannot_be_used_is_one_line(table, options, message):
    with pytest.raises(picking.PickError, match=message.replace("(", r"\(").replace(")", r"\)")):
        picking.from_table(table, **options)


def test_the_rubric_may_hold_a_pick_table_and_a_wrong_one_is_refused(tmp_path):
    from grader.grading import score

    good = tmp_path / "rubric.toml"
    good.write_text('[backward]\npoints = 6\n\n[pick]\nrule = "name-pattern"\npattern = "final"\n\n'
                    '[pick.files]\nalice = "gc_v1.ipynb"\n')
    tables = score.load_rubric(good)
    assert picking.from_table(tables["pick"]).files == {"alice": "gc_v1.ipynb"}
    assert score.rubric_from_dict(tables).backward_points == 6
    bad = tmp_path / "bad.toml"
    bad.write_text('[pick]\nrule = "oldest"\n')
    with pytest.raises(ValueError, match="pick rule 'oldest'"):
        score.load_rubric(bad)
