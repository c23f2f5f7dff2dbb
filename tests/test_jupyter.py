"""grader.check in a notebook: grades function objects through the sandbox and shows the student page."""
from __future__ import annotations

import builtins
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import grader
from grader import jupyter as notebook

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"


def module_from(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_grader_stays_light():
    code = "import sys, grader; print(sorted(m for m in ('numpy', 'jinja2', 'grader.jupyter') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_grader_check_is_the_notebook_entry_and_the_numerics_module():
    from grader.numerics import check

    assert check.THRESHOLD > 0 and callable(grader.check) and grader.check is check


def test_correct_backward_pass_from_a_module_passes(tmp_path):
    module = module_from(tmp_path, "student_ok", (SUBMISSIONS / "correct_matmul.py").read_text())
    report = grader.check(module.backward_propagation_n)
    assert report.passed
    assert [check.name for check in report.result.checks] == ["backward_propagation_n"]
    assert "PASS" in repr(report) and "dW1" in repr(report)
    assert report._repr_html_().startswith("<iframe srcdoc=") and "&lt;table class=&quot;parameters" in report._repr_html_()


def test_helpers_constants_and_imports_travel_with_the_function(tmp_path):
    source = textwrap.dedent("""
        import numpy as np
        from numpy import dot as matmul

        SCALE = 1.0

        def mask(A):
            return (A > 0).astype(float)

        def backward_propagation_n(X, Y, cache):
            m = X.shape[1]
            (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
            dZ3 = A3 - Y
            dW3 = SCALE / m * matmul(dZ3, A2.T)
            db3 = SCALE / m * np.sum(dZ3, axis=1, keepdims=True)
            dZ2 = np.dot(W3.T, dZ3) * mask(A2)
            dW2 = 2.0 / m * np.dot(dZ2, A1.T)
            db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
            dZ1 = np.dot(W2.T, dZ2) * mask(A1)
            dW1 = 1.0 / m * np.dot(dZ1, X.T)
            db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
            return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}
    """)
    module = module_from(tmp_path, "student_bug", source)
    sent = notebook.function_sources((module.backward_propagation_n,))
    assert "def mask" in sent and "SCALE = 1.0" in sent and "import numpy as np" in sent
    report = grader.check(module.backward_propagation_n)
    backward = report.result.check("backward_propagation_n")
    assert backward.parameter("dW2").status.value == "fail" and backward.parameter("dW1").status.value == "pass"
    assert any("dW2" in diagnosis.hint for diagnosis in backward.diagnosis)


def test_a_global_the_function_reads_but_cannot_be_sent_is_a_warning(tmp_path):
    course = (SUBMISSIONS / "correct_course_style.py").read_text()
    course = course.replace("def backward_propagation_n(", "def _course(", 1).replace("from gc_utils import", "# ")
    source = course + textwrap.dedent("""
        T = np.ones(3)  # an array: not sent; and A2.T in _course is an attribute, not this global

        def backward_propagation_n(X, Y, cache):
            gradients = _course(X, Y, cache)
            gradients["dW3"] = gradients["dW3"] * WEIGHTS[0]
            return gradients

        WEIGHTS = np.ones(2)
    """)
    module = module_from(tmp_path, "student_globals", source)
    report = grader.check(module.backward_propagation_n)
    assert "NameError: name 'WEIGHTS' is not defined" in report.result.check("backward_propagation_n").message
    assert report.result.warnings[-1] == ("backward_propagation_n reads the notebook's global WEIGHTS (a ndarray), "
                                          "which gradgrade does not get: pass it in or compute it inside the function")
    assert not any(" T " in warning for warning in report.result.warnings)


def test_function_without_source_falls_back_to_the_notebook_history(monkeypatch):
    cells = ["import numpy as np", "%matplotlib inline", (SUBMISSIONS / "planted_bugs.py").read_text(),
             "backward_propagation_n(1, 2, 3)"]
    namespace: dict = {}
    exec(compile(cells[2], "<cell>", "exec"), namespace)
    monkeypatch.setattr(notebook, "_caller_namespace", lambda: {"In": cells})
    report = grader.check(namespace["backward_propagation_n"])
    backward = report.result.check("backward_propagation_n")
    assert backward.parameter("dW2").status.value == "fail" and backward.parameter("db3").status.value == "pass"


@pytest.mark.parametrize("argument", [pytest.param(42, id="not-a-function"), pytest.param(print, id="builtin")])
def test_wrong_argument_says_what_to_pass(argument):
    with pytest.raises(TypeError, match="grader.check"):
        grader.check(argument)


def test_unknown_function_name_asks_for_the_assignment(tmp_path):
    module = module_from(tmp_path, "student_other", "def my_backward(X, Y, cache):\n    return {}\n")
    with pytest.raises(ValueError, match="assignment="):
        grader.check(module.my_backward)


def ipython_cell(cell: str, filename: str, namespace: dict) -> dict:
    """Run a cell the way IPython does: compiled under the cell's file name, its lines in linecache."""
    import linecache

    linecache.cache[filename] = (len(cell), None, cell.splitlines(keepends=True), filename)
    exec(compile(cell, filename, "exec"), namespace)
    return namespace


PLANTED = (SUBMISSIONS / "planted_bugs.py").read_text()
PLANTED_CELL = PLANTED[PLANTED.index("def backward_propagation_n"):]  # its bugs at cell lines 11 and 17


class FakeShell:
    """What ipykernel 6 gives: each cell compiled as /tmp/ipykernel_<pid>/<hash>.py, its number in a map."""

    def __init__(self, numbers: dict[str, int]):
        self.compile = type("Compiler", (), {"_filename_map": numbers})()


def test_hints_point_at_the_cell_and_line_the_student_sees_old_ipython():
    namespace = ipython_cell(PLANTED_CELL, "<ipython-input-4-0123456789ab>", {"np": np})
    backward = grader.check(namespace["backward_propagation_n"]).result.check("backward_propagation_n")
    assert [diagnosis.where for diagnosis in backward.diagnosis] == ["In [4], line 11", "In [4], line 17"]


def test_hints_and_errors_point_at_cells_under_ipykernel(monkeypatch, tmp_path):
    backward_file, checker_file = "/tmp/ipykernel_4242/2841093357.py", "/tmp/ipykernel_4242/1093357284.py"
    monkeypatch.setattr(builtins, "get_ipython", lambda: FakeShell({backward_file: 4, checker_file: 7}), raising=False)
    namespace = ipython_cell(PLANTED_CELL, backward_file, {"np": np})
    checker = ("import numpy as np\n\n# my checker\ndef gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):\n"
               "    values = parameters['W1']\n    raise ValueError('not finished')\n")
    ipython_cell(checker, checker_file, namespace)
    result = grader.check(namespace["backward_propagation_n"], namespace["gradient_check_n"]).result
    assert [d.where for d in result.check("backward_propagation_n").diagnosis] == ["In [4], line 11", "In [4], line 17"]
    message = result.check("gradient_check_n").message
    assert "ValueError: not finished (In [7], line 6)" in message and "(line" not in message


def test_the_history_fallback_names_the_cells_too(monkeypatch):
    cells = ["", "import numpy as np", "%matplotlib inline", PLANTED_CELL, "backward_propagation_n(1, 2, 3)"]
    namespace: dict = {"np": np}
    exec(compile(PLANTED_CELL, "<cell>", "exec"), namespace)
    monkeypatch.setattr(notebook, "_caller_namespace", lambda: {"In": cells})
    backward = grader.check(namespace["backward_propagation_n"]).result.check("backward_propagation_n")
    assert [diagnosis.where for diagnosis in backward.diagnosis] == ["In [3], line 11", "In [3], line 17"]


@pytest.mark.parametrize("filename, name", [
    ("<ipython-input-12-a1b2c3d4e5f6>", "In [12]"),
    ("/home/student/helpers.py", "helpers.py"),
    ("/tmp/ipykernel_1/123.py", "123.py"),  # no shell to ask: the file's name
])
def test_cell_name(filename, name):
    assert notebook.cell_name(filename) == name


def test_the_inline_page_shows_the_function_with_the_buggy_line_marked(tmp_path):
    import html
    import re

    module = module_from(tmp_path, "student_planted", (SUBMISSIONS / "planted_bugs.py").read_text())
    page = html.unescape(grader.check(module.backward_propagation_n)._repr_html_().split('srcdoc="')[1].split('"')[0])
    marked = re.findall(r'<div class="ln marked"[^>]*>.*?<code class="src">(.*?)</code></div>\n<div class="note '
                        r'diagnosis">.*?</strong>: ([^<]*)', page)
    code = [(html.unescape(re.sub(r"<[^>]+>", "", line)).strip(), hint) for line, hint in marked]
    assert code == [("dW2 = 1. / m * np.dot(dZ2, A1.T) * 2", "dW2 is twice the true gradient "),
                    ("db1 = 4. / m * np.sum(dZ1, axis=1, keepdims=True)",
                     "db1 is 4 times the true gradient: look at the 1/m factor ")]


def test_the_inline_page_numbers_the_code_as_the_cell_the_student_sees():
    import html
    import re

    namespace = ipython_cell(PLANTED_CELL, "<ipython-input-4-0123456789ab>", {"np": np})
    page = html.unescape(grader.check(namespace["backward_propagation_n"])._repr_html_().split('srcdoc="')[1]
                         .split('"')[0])
    marked = re.findall(r'<div class="ln marked" id="check-1-line-(\d+)"><span class="no" title="([^"]+)"', page)
    assert marked == [("11", "In [4], line 11"), ("17", "In [4], line 17")]
    assert "In [4], lines 1–" in page
