"""HTML pages: everything the student wrote escaped, self-contained pages, safe file names, class statistics."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from dataclasses import replace
from html import unescape

import pytest

from grader import assignments
from grader.report import html, listing
from grader.results import (CheckResult, Diagnosis, FunctionSource, ParameterResult, SourceStatus, Status,
                            SubmissionResult)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NAMES = ("dW1", "db1", "dW2", "db2", "dW3", "db3")


def result(student: str = "alice", *, failing: tuple[str, ...] = (), diagnosis: tuple[Diagnosis, ...] = (),
           output: str = "", warnings: tuple[str, ...] = (), details: dict | None = None) -> SubmissionResult:
    parameters = tuple(ParameterResult(name, Status.FAIL if name in failing else Status.PASS,
                                       0.5 if name in failing else 1e-10, "message " + name) for name in NAMES)
    points = 6.0 * (len(NAMES) - len(failing)) / len(NAMES)
    checks = [CheckResult("backward_propagation_n", Status.FAIL if failing else Status.PASS, 0.5 if failing else 1e-10,
                          1e-7, "checked", parameters, diagnosis, points=points, max_points=6.0)]
    if details is not None:
        checks.append(CheckResult("gradient_check_n", Status.FAIL, None, 1e-7, "checker", points=1.0, max_points=4.0,
                                  details=details))
    total = sum(check.points for check in checks)
    maximum = sum(check.max_points for check in checks)
    return SubmissionResult(student, "three_layer", Status.FAIL if failing or details else Status.PASS, total,
                            maximum, tuple(checks), "message", warnings, output)


def test_student_page_escapes_everything_the_student_wrote():
    page = html.student_page(result(HOSTILE, failing=("dW2",), output=HOSTILE + "</pre>", warnings=(HOSTILE,),
                                    diagnosis=(Diagnosis("m-1", "op", HOSTILE),)))
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page


def test_class_page_escapes_student_ids_and_links_to_safe_pages():
    results = [result(HOSTILE), result("bob")]
    pages = html.page_names(r.submission for r in results)
    page = html.class_page(results, pages)
    assert "<script>" not in page
    for name in pages.values():
        assert f'href="{name}"' in page
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", name)


def test_class_page_lists_files_not_graded_escaped_and_capped():
    page = html.class_page([result("bob")], html.page_names(["bob"]), not_graded=[HOSTILE + ".zip"])
    assert 'href="#not-graded"' in page and "<script>" not in page and "&lt;script&gt;" in page
    many = html.class_page([result("bob")], html.page_names(["bob"]), not_graded=[f"f{i:03d}.txt" for i in range(250)])
    assert "<code>f199.txt</code>" in many and "f200.txt" not in many and "and 50 more" in many
    assert 'id="not-graded"' not in html.class_page([result("bob")], html.page_names(["bob"]))


@pytest.mark.parametrize("student", [
    pytest.param("alice", id="plain"),
    pytest.param("../../etc/passwd", id="traversal"),
    pytest.param("index", id="reserved"),
    pytest.param("Ünïcødé name", id="unicode"),
    pytest.param("a" * 300, id="long"),
    pytest.param(".hidden", id="dot"),
    pytest.param("", id="empty"),
])
def test_page_name_is_a_safe_file_name(student):
    name = html.page_name(student)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", name) and not name.startswith(".")
    assert len(name) < 120 and name.lower() != "index.html"


def test_page_names_are_distinct_ignoring_case():
    names = html.page_names(["Alice", "alice", "a/b", "a_b", "a?b"])
    assert len({name.lower() for name in names.values()}) == 5


def test_pages_are_self_contained_with_print_stylesheet():
    results = [result("alice"), result("bob", failing=("db1",))]
    for page in (html.student_page(results[1], class_page="index.html"),
                 html.class_page(results, html.page_names(r.submission for r in results))):
        assert "<style>" in page and "@media print" in page
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        assert "<script" not in page and "<link" not in page


def test_student_page_shows_table_diagnosis_output_and_warnings():
    page = html.student_page(result("bob", failing=("db1",), output="printed 42",
                                    warnings=("2 top-level statements were not run",),
                                    diagnosis=(Diagnosis("scale-2", "scale", "db1 is 4 times the true gradient"),)))
    assert 'class="parameters"' in page and page.count("<tr>") >= 7
    assert "db1 is 4 times the true gradient" in page and "printed 42" in page
    assert "2 top-level statements were not run" in page


def test_a_described_error_is_not_presented_as_a_known_bug():
    described = Diagnosis("", "transposed", "dW1 is transposed", ("dW1",))
    page = html.student_page(result("carol", failing=("dW1",), diagnosis=(described,)))
    assert "dW1 is transposed" in page
    assert "matches known bug" not in page and "no known bug matches" in page
    matched = html.student_page(result("dan", failing=("dW2",), diagnosis=(Diagnosis("scale-1", "scale", "x"),)))
    assert "matches known bug <code>scale-1</code>" in matched


def test_histogram_puts_each_score_in_one_bin():
    results = [result("a"), result("b", failing=NAMES), result("c", failing=("dW1", "db1", "dW2"))]
    bars = html.histogram(results)
    assert [bar.count for bar in bars] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert max(bar.height for bar in bars) > 0 and all(bar.y >= 0 for bar in bars)


def test_pass_rates_and_misconceptions():
    hint = Diagnosis("scale-1", "scale", "dW2 is twice the true gradient")
    results = [result("a", failing=("dW2",), diagnosis=(hint,)), result("b", failing=("dW2",), diagnosis=(hint,)),
               result("c")]
    rates = {row["parameter"]: (row["passed"], row["total"]) for row in html.parameter_pass_rates(results)}
    assert rates["dW2"] == (1, 3) and rates["dW1"] == (3, 3)
    [top] = html.misconceptions(results)
    assert (top["operator"], top["mutants"], top["count"]) == ("scale", ["scale-1"], 2)
    page = html.class_page(results, html.page_names(r.submission for r in results))
    assert "dW2 is twice the true gradient" in page and "<svg" in page



def test_the_class_page_has_a_row_per_function_with_its_gradients_and_how_many_left_it_out():
    """A spec of many optional functions: each function's pass rate, its gradients' own, and the students who
    have it missing or not implemented."""
    def student(name: str, statuses: dict[str, Status]) -> SubmissionResult:
        checks = tuple(CheckResult(function, status, None, 1e-7, "m", tuple(
            ParameterResult(gradient, Status.PASS if status is Status.PASS or gradient == "db" else Status.FAIL, None, "m")
            for gradient in ("dx", "dw", "db"))) for function, status in statuses.items())
        return SubmissionResult(name, "spec", Status.FAIL, 0.0, 30.0, checks, "m")

    results = [student("a", {"conv_backward": Status.PASS, "pool_backward": Status.MISSING}),
               student("b", {"conv_backward": Status.FAIL, "pool_backward": Status.PASS})]
    rows = {row["check"]: row for row in html.function_pass_rates(results)}
    assert list(rows) == ["conv_backward", "pool_backward"]
    assert (rows["conv_backward"]["passed"], rows["conv_backward"]["total"], rows["conv_backward"]["missing"]) == (1, 2, 0)
    assert (rows["pool_backward"]["passed"], rows["pool_backward"]["missing"]) == (1, 1)
    assert [(p["parameter"], p["passed"]) for p in rows["conv_backward"]["parameters"]] == [("dx", 1), ("dw", 1), ("db", 2)]
    page = unescape(re.sub(r"<[^>]+>", "", html.class_page(results, html.page_names(r.submission for r in results))))
    assert "Pass rate per function" in page and "dx 1/2 · dw 1/2 · db 2/2" in page


def test_a_student_page_of_many_functions_opens_the_cases_of_those_that_did_not_pass_and_marks_them():
    from grader.results import CaseResult

    def check(name: str, status: Status) -> CheckResult:
        return CheckResult(name, status, None, 1e-7, "m", cases=(CaseResult("public", status, None, "m"),))

    checks = (check("affine_backward", Status.PASS), check("conv_backward", Status.FAIL))
    page = html.student_page(SubmissionResult("s", "spec", Status.FAIL, 5.0, 20.0, checks, "m"))
    assert page.count("<details open><summary>cases</summary>") == 1
    assert page.count("<details><summary>cases</summary>") == 1
    assert "<strong>conv_backward</strong></a>" in page and "<strong>affine_backward</strong>" not in page


def test_misconceptions_as_common_as_each_other_come_in_the_order_of_their_names():
    """Not in the order a set of them was iterated, which changes with the process's hash seed."""
    hints = tuple(Diagnosis(f"{name}-1", name, f"hint {name}") for name in ("zero", "scale", "transpose", "mask"))
    results = [result("a", failing=("dW2",), diagnosis=hints), result("b", failing=("dW2",), diagnosis=hints[:1])]
    assert [row["operator"] for row in html.misconceptions(results)] == ["zero", "mask", "scale", "transpose"]

CHECKER_DETAILS = {"mutants": [{"mutant": "scale-1", "operator": "scale", "caught": True},
                               {"mutant": "scale-2", "operator": "scale", "caught": False},
                               {"id": "transpose-1", "operator": "transpose", "status": "survived"}]}


def test_checker_families_and_missed_mutants_from_details():
    check = result("a", details=CHECKER_DETAILS).checks[1]
    assert html.checker_families(check) == [html.Family("scale", 1, 2), html.Family("transpose", 0, 1)]
    missed, checkers = html.missed_mutants([result("a", details=CHECKER_DETAILS), result("b", details=CHECKER_DETAILS),
                                            result("c")])
    assert checkers == 2 and {row["mutant"]: row["count"] for row in missed} == {"scale-2": 2, "transpose-1": 2}
    page = html.student_page(result("a", details=CHECKER_DETAILS))
    assert 'class="families"' in page and "transpose-1" in page


def test_checker_without_details_is_shown_without_a_families_table():
    page = html.student_page(result("a", details={}))
    assert "gradient_check_n" in page and 'class="families"' not in page


def test_captured_output_loses_terminal_colours():
    page = html.student_page(result("a", output="\x1b[92mYour backward propagation works\x1b[0m\x07 done\n"))
    assert "Your backward propagation works done" in page and "\x1b" not in page and "\x07" not in page


def test_pages_round_scores_to_two_decimals():
    thirds = result("carol", failing=("db1", "dW2"))  # 4 of 6 parameters: 4.0, then a third of the checker
    checks = (replace(thirds.checks[0], points=6.0 * 5 / 7),)
    odd = replace(thirds, checks=checks, score=6.0 * 5 / 7, max_score=6.0)
    student = html.student_page(odd)
    assert "4.29" in student and "4.2857" not in student
    index = html.class_page([odd], html.page_names(["carol"]))
    assert "4.29 / 6" in index and "4.2857" not in index


def test_the_printed_class_page_keeps_headings_with_their_tables():
    results = [result("alice"), result("bob", failing=("db1",))]
    page = html.class_page(results, html.page_names(r.submission for r in results))
    print_css = page[page.index("@media print"):]
    assert re.search(r"h2[^{]*\{[^}]*break-after:\s*avoid", print_css)
    assert re.search(r"table[^{]*\{[^}]*break-inside:\s*avoid", print_css)


# The class page's missed mutants count only checkers that ran on them; crashed ones are shown apart.

RAN_DETAILS = {"mutants": [{"mutant": "scale-1", "operator": "scale", "caught": True, "ran": True},
                           {"mutant": "scale-2", "operator": "scale", "caught": False, "ran": True}]}
CRASHED_DETAILS = {"mutants": [{"mutant": "scale-1", "operator": "scale", "caught": False, "ran": False},
                               {"mutant": "scale-2", "operator": "scale", "caught": False, "ran": False}]}
HALF_CRASHED_DETAILS = {"mutants": [{"mutant": "scale-1", "operator": "scale", "caught": True, "ran": True},
                                    {"mutant": "scale-2", "operator": "scale", "caught": False, "ran": False}]}


def test_checkers_that_crashed_on_a_mutant_are_not_counted_as_missing_it():
    results = [result("a", details=RAN_DETAILS), result("b", details=CRASHED_DETAILS),
               result("c", details=HALF_CRASHED_DETAILS)]
    missed, checkers = html.missed_mutants(results)
    assert checkers == 2  # b never ran on a mutant
    assert missed == [{"mutant": "scale-2", "operator": "scale", "count": 1, "ran": 1}]
    assert html.crashed_checkers(results) == [
        {"submission": "b", "check": "gradient_check_n", "crashed": 2, "total": 2},
        {"submission": "c", "check": "gradient_check_n", "crashed": 1, "total": 2}]


def test_a_checker_that_crashed_as_a_whole_counts_as_crashed_without_a_ran_field():
    crashed = result("b", details=CHECKER_DETAILS)
    crashed = replace(crashed, checks=(crashed.checks[0], replace(crashed.checks[1],
                                                              status=Status.ERROR)))
    assert html.missed_mutants([crashed]) == ([], 0)
    assert html.crashed_checkers([crashed])[0]["crashed"] == 3


def test_the_class_page_shows_crashed_checkers_apart_from_the_misses():
    results = [result("a", details=RAN_DETAILS), result("b", details=CRASHED_DETAILS)]
    page = html.class_page(results, html.page_names(r.submission for r in results))
    missed_table = page.split('id="missed"')[1].split('id="students"')[0]
    assert "1 / 1" in missed_table and "2 / 2" not in missed_table
    assert "Not counted as misses: 1 checker crashed" in missed_table and "(2 of 2)" in missed_table


def test_a_real_crashing_checker_is_not_counted_as_missing_every_mutant(tmp_path):
    from grader.grading import pipeline
    from grader.settings import Settings
    checkers = Path(__file__).resolve().parents[1] / "checkers"
    results = [pipeline.grade_file(checkers / name, Settings(), assignment=assignments.get("three_layer")) for name in ("first_entries.py", "crashes.py")]
    missed, count = html.missed_mutants(results)
    assert count == 1 and all(row["ran"] == 1 for row in missed)
    assert [row["submission"] for row in html.crashed_checkers(results)] == [results[1].submission]


HOSTILE_SOURCE = "\n".join([
    "def backward_propagation_n(X, Y, cache):",
    '    note = "</script><script>alert(1)</script>"',
    "    template = '{{ 7 * 7 }} {% raw %} {# comment #}'",
    "    nul = 'a\x00b'  # a NUL the student pasted",
    "    access = 'user' # \u202e } \u2066 if is_admin: \u2069 \u2066 # begin admins only",
    "    dW1 = 2 * cache[0]",
    "    return {'dW1': dW1, '</pre>': '<!--'}",
])


def test_student_code_in_the_shown_source_renders_as_text():
    source = FunctionSource(SourceStatus.FOUND, HOSTILE_SOURCE, line=3, program_line=3)
    hostile = result("mallory", failing=("dW1",), diagnosis=(Diagnosis("scale-double-1", "scale-double", "dW1 is twice"
                                                                       " the true gradient", ("dW1",), 8),))
    hostile = dataclasses.replace(hostile, checks=(dataclasses.replace(hostile.checks[0], source=source),))
    page = html.student_page(hostile)
    assert "<script" not in page and "<!--" not in page and "</pre>" not in page.split("<main>")[1]
    # Each shown line reads as the student's line, template syntax and all, with stand-ins for the invisible.
    shown = [unescape(re.sub(r"<[^>]+>", "", code))
             for code in re.findall(r'<code class="src">(.*?)</code></div>', page)]
    assert shown == [listing.visible(line) for line in HOSTILE_SOURCE.split("\n")]
    assert "{{ 7 * 7 }} {% raw %} {# comment #}" in shown[2] and "49" not in shown[2]
    for character in ("\x00", "\u202e", "\u2066", "\u2069"):
        assert character not in page
    assert "\u2400" in page and "\u27e8U+202E\u27e9" in page and "\u27e8U+2066\u27e9" in page
    marked = re.findall(r'<div class="ln marked" id="check-1-line-(\d+)"', page)
    assert marked == ["8"] and "\u25c0" in page and "dW1 is twice the true gradient" in page
    assert page.count(".listing .src .k {") == 1  # Pygments' stylesheet, inlined once


def test_a_missing_function_says_what_was_found_instead():
    missing = FunctionSource(SourceStatus.MISSING, note="no function is named gradient_check_n; the submission "
                             "defines backward_propagation_n")
    page = html.student_page(result("bob", details={"flaws": []}))
    assert "no function is named" not in page
    bob = result("bob", details={"flaws": []})
    bob = dataclasses.replace(bob, checks=(bob.checks[0], dataclasses.replace(bob.checks[1], source=missing)))
    assert "no function is named gradient_check_n; the submission defines backward_propagation_n" in html.student_page(bob)


def test_a_diagnosis_carries_the_anchor_the_class_page_links_to_once_per_page():
    twice = (Diagnosis("scale-double-6", "scale-double", "dW2 is twice"), Diagnosis("scale-double-7", "scale-double", "db2"))
    page = html.student_page(result("carol", failing=("dW2", "db2"), diagnosis=twice))
    assert page.count(f'id="{html.misconception_anchor("scale-double")}"') == 1
    assert html.misconception_anchor("a/b <c>") == "bug-a-b-c"


def test_the_student_page_lists_the_mutants_its_checker_crashed_on_apart_from_those_it_missed():
    page = html.student_page(result("c", details=HALF_CRASHED_DETAILS))
    assert "Crashed (raised or timed out) on: <code>scale-2</code>" in page
    assert "Missed:" not in page
