"""The class report in a real browser: headless Debian chromium driven by playwright, no console errors."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader import assignments
from grader.batch import batch
from grader.grading import pipeline
from grader.report import html
from grader.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and shutil.which("chromium") is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    batch.grade(SUBMISSIONS, out, Settings(), assignment=assignments.get("three_layer"), jobs=2)
    return out


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Where the screenshots go: tests/artifacts for a look afterwards, or a temporary folder when the
    checkout is read-only to the user running the suite (nobody, on a copy it may only read)."""
    if os.access(ARTIFACTS.parent, os.W_OK):
        ARTIFACTS.mkdir(exist_ok=True)
        return ARTIFACTS
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    executable = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900})
        yield context
        context.close()


def test_class_page_links_to_a_student_page_with_the_parameter_table(report, browser, artifacts):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    page.goto((report / "index.html").as_uri())
    assert page.locator("svg.histogram rect").count() == 10
    assert page.locator("table.students tbody tr").count() >= 9
    page.screenshot(path=str(artifacts / "class_page.png"), full_page=True)

    page.locator("table.students a").filter(has_text=re.compile(r"^planted_bugs(\.py)?$")).first.click()
    page.wait_for_load_state()
    assert re.search(r"/planted_bugs(\.py)?\.html$", page.url)
    table = page.locator("table.parameters").first
    assert table.is_visible()
    rows = {row.locator("td").first.inner_text(): row.locator("td").nth(2).inner_text()
            for row in table.locator("tbody tr").all()}
    assert rows["dW2"] == "FAIL" and rows["db1"] == "FAIL" and rows["dW1"] == "PASS"
    page.screenshot(path=str(artifacts / "student_page.png"), full_page=True)
    assert errors == []


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    return errors


def marked_lines(page) -> list[dict[str, str]]:
    """Each marked line of the page's first listing: its number, where (its title), its code and the note under it."""
    return page.locator("#source-1 .ln.marked").evaluate_all("""lines => lines.map(line => ({
        number: line.querySelector('.no').innerText, where: line.querySelector('.no').title,
        flag: line.querySelector('.flag').innerText, code: line.querySelector('.src').innerText,
        note: line.nextElementSibling.classList.contains('note') ? line.nextElementSibling.innerText : ''}))""")


def test_a_planted_bug_students_page_marks_the_buggy_line_with_the_hint_under_it(report, browser, artifacts):
    planted = (SUBMISSIONS / "planted_bugs.py").read_text().splitlines()
    bug = next(number for number, line in enumerate(planted, start=1) if line.strip().startswith("dW2 =")
               and line.rstrip().endswith("* 2"))
    assert bug == 15  # the line the course planted its dW2 bug on
    page = browser.new_page()
    errors = _watch(page)
    page.goto((report / "index.html").as_uri())
    page.locator("table.students a").filter(has_text=re.compile(r"^planted_bugs(\.py)?$")).first.click()
    page.wait_for_load_state()
    lines = marked_lines(page)
    assert [line["number"] for line in lines] == ["15", "21"]  # exactly the two planted bugs' lines
    line = lines[0]
    assert line["where"] == "line 15" and line["flag"] == "\u25b6" and line["code"] == planted[14]
    assert line["note"].replace("\n", " ").startswith("\u25c0 line 15: dW2 is twice the true gradient")
    assert page.locator("#check-1-line-15").is_visible() and page.locator("#check-1-line-15 + .note").is_visible()
    page.locator("#source-1").screenshot(path=str(artifacts / "planted_bugs_source.png"))
    page.screenshot(path=str(artifacts / "planted_bugs_page.png"), full_page=True)
    page.click("a[href='#check-1-line-15']")  # the diagnosis links to its line
    assert page.url.endswith("#check-1-line-15")
    assert errors == []


def test_the_class_page_leads_from_a_misconception_to_the_bug_on_each_students_page(report, browser):
    page = browser.new_page()
    errors = _watch(page)
    page.goto((report / "index.html").as_uri())
    row = page.locator("table.misconceptions tbody tr").filter(has_text="scale-double-gradient").first
    links = row.locator("td.who a")
    names = links.all_inner_texts()
    assert any(name.startswith("planted_bugs") for name in names)
    links.filter(has_text=re.compile(r"^planted_bugs(\.py)?$")).first.click()
    page.wait_for_load_state()
    target = page.url.rsplit("#", 1)[1]
    assert target == html.misconception_anchor("scale-double-gradient")
    assert "dW2 is twice the true gradient" in page.locator(f"#{target}").inner_text()
    assert errors == []


MARKDOWN = [
    "# Gradient Checking\n\nBackpropagation is where most of the bugs of a neural network hide. In this notebook you "
    "will check your backward pass against a numerical estimate of the gradient, so that you can be confident "
    "it is right before you train anything with it.\n\n**After this assignment you will be able to:**\n- compute "
    "a centred difference approximation of a derivative\n- compare two gradient vectors with a relative "
    "difference\n- find which parameter's gradient is wrong",
    "## 1 - How gradient checking works\n\nFor a cost $J(\\theta)$, the derivative is the limit\n\n"
    "$$ \\frac{\\partial J}{\\partial \\theta} = \\lim_{\\varepsilon \\to 0} \\frac{J(\\theta + "
    "\\varepsilon) - J(\\theta - \\varepsilon)}{2 \\varepsilon} $$\n\nWith a small $\\varepsilon$ (say "
    "$10^{-7}$) the right-hand side is a very good estimate, called `gradapprox`. You already know how to compute "
    "$J$ (forward propagation) and the analytic gradient (backward propagation); comparing the two tells you "
    "whether the backward pass is right.",
    "## 2 - The network\n\nThe model is LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, with layer sizes "
    "4, 5, 3 and 1. The cost is the mean cross-entropy over the $m$ examples of the batch. The forward pass "
    "below is given; read it to see what the cache holds, because your backward pass unpacks it in the same order.",
    "## 3 - Backward propagation\n\n**Exercise**: implement `backward_propagation_n`. Every gradient of a weight "
    "matrix has the form $dW^{[l]} = \\frac{1}{m} dZ^{[l]} A^{[l-1]T}$ and every bias gradient sums $dZ^{[l]}$ over "
    "the examples. Remember that the derivative of ReLU is 1 where its input was positive and 0 elsewhere.\n\n"
    "Keep the keys of the returned dictionary exactly as they are: the grader looks up `dW1` to `db3`.",
    "## 4 - Gradient checking of the whole network\n\nThe parameters are rolled into one long vector with "
    "`dictionary_to_vector`, and so are the gradients. For each entry, nudge it up and down by $\\varepsilon$, "
    "recompute the cost, and form `gradapprox[i]`. Then compute\n\n$$ difference = \\frac{\\| grad - gradapprox "
    "\\|_2}{\\| grad \\|_2 + \\| gradapprox \\|_2} $$\n\nA difference below $2 \\cdot 10^{-7}$ means the "
    "backward pass is very likely right; above $10^{-3}$, something is wrong.",
    "**What you should remember from this notebook:**\n- Gradient checking is slow: use it to verify your code, "
    "then turn it off for training.\n- It does not work with dropout: check without it, then add dropout.\n"
    "- The relative difference, not the absolute one, tells you how close the two gradients are.",
]

BACKWARD = """# GRADED FUNCTION: backward_propagation_n

def backward_propagation_n(X, Y, cache):
    \"\"\"
    Backward propagation of the three-layer network.

    Arguments:
    X -- input datapoints, of shape (input size, number of examples)
    Y -- true labels
    cache -- cache output from forward_propagation_n()

    Returns:
    gradients -- dictionary of the gradient of the cost with respect to each parameter and activation
    \"\"\"
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache

    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T) * 2
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)

    gradients = {"dZ3": dZ3, "dW3": dW3, "db3": db3,
                 "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
                 "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}

    return gradients"""


def course_notebook() -> str:
    """A course notebook as a student hands it in (about 20 KB): the markdown, executed cells with their outputs,
    a magic, a half-done scratch cell that does not parse, and a backward pass with dW1 doubled."""
    rng = np.random.default_rng(7)
    printed = lambda array: np.array2string(array, precision=8, max_line_width=90)  # noqa: E731
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"},
                                              "language_info": {"name": "python", "version": "3.11.4"}})
    code = []

    def cell(source: str, *, output: str = "", count: int | None = None) -> None:
        code.append(nbformat.v4.new_code_cell(source, execution_count=count))
        if output:
            code[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
        book.cells.append(code[-1])

    book.cells.append(nbformat.v4.new_markdown_cell(MARKDOWN[0]))
    cell("# Packages\nimport numpy as np\nfrom testCases import *\nfrom gc_utils import sigmoid, relu, "
         "dictionary_to_vector, vector_to_dictionary, gradients_to_vector\n%matplotlib inline", count=1)
    book.cells.append(nbformat.v4.new_markdown_cell(MARKDOWN[1]))
    book.cells.append(nbformat.v4.new_markdown_cell(MARKDOWN[2]))
    cell("X, Y, parameters = gradient_check_n_test_case()\nprint(X.shape, Y.shape)\nfor key in sorted(parameters):"
         "\n    print(key, parameters[key])", count=2,
         output="(4, 3) (1, 3)\n" + "".join(f"{key} {printed(rng.standard_normal(shape))}\n" for key, shape in
                                            (("W1", (5, 4)), ("W2", (3, 5)), ("W3", (1, 3)), ("b1", (5, 1)),
                                             ("b2", (3, 1)), ("b3", (1, 1)))))
    book.cells.append(nbformat.v4.new_markdown_cell(MARKDOWN[3]))
    cell(BACKWARD, count=3)
    cell("# scratch, left half done\ndef try_it(:\n    pass", count=4)
    cell("cost, cache = forward_propagation_n(X, Y, parameters)\ngradients = backward_propagation_n(X, Y, cache)\n"
         "for key in ('dW1', 'db1', 'dW2'):\n    print(key, gradients[key])", count=5,
         output="".join(f"{key} {printed(rng.standard_normal(shape))}\n" for key, shape in
                        (("dW1", (5, 4)), ("db1", (5, 1)), ("dW2", (3, 5)))))
    book.cells.append(nbformat.v4.new_markdown_cell(MARKDOWN[4]))
    for trial in range(10):
        cell(f"# trial {trial}: look at the parts of the gradient vector\nprint(gradients_to_vector(gradients)"
             f"[{trial * 8}:{trial * 8 + 8}].ravel())", count=6 + trial,
             output=printed(rng.standard_normal(8)) + "\n" + printed(rng.standard_normal((8, 6))) + "\n")
    book.cells.append(nbformat.v4.new_markdown_cell(MARKDOWN[5]))
    return nbformat.writes(book)


@pytest.fixture(scope="module")
def notebook_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    path = folder / "course_notebook.ipynb"
    path.write_text(course_notebook())
    page = folder / "course_notebook.html"
    page.write_text(html.student_page(pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))))
    return path, page


def test_the_notebook_fixture_has_a_real_notebooks_size(notebook_page):
    path, _ = notebook_page
    assert 15_000 <= path.stat().st_size <= 50_000


def test_a_notebook_students_marked_line_is_given_as_code_cell_and_line(notebook_page, browser, artifacts):
    path, report = notebook_page
    cells = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    number = next(index for index, source in enumerate(cells, start=1) if "def backward_propagation_n" in source)
    bug = next(index for index, line in enumerate(cells[number - 1].split("\n"), start=1)
               if line.strip().startswith("dW1 ="))
    page = browser.new_page()
    errors = _watch(page)
    page.goto(report.as_uri())
    lines = marked_lines(page)
    assert [line["where"] for line in lines] == [f"code cell {number}, line {bug}"]
    assert lines[0]["code"] == cells[number - 1].split("\n")[bug - 1]
    assert lines[0]["note"].replace("\n", " ").startswith(f"\u25c0 code cell {number}, line {bug}: dW1 is twice")
    summary = page.locator("#source-1 > summary").inner_text()
    assert f"code cell {number}, lines 3\u2013" in summary
    assert page.locator("#source-1 details.fold").count() >= 1  # the docstring and setup fold away
    page.locator("#source-1").screenshot(path=str(artifacts / "notebook_source.png"))
    page.locator("#source-1 details.fold summary").first.click()
    assert page.locator("#source-1 details.fold").first.evaluate("element => element.open")
    page.screenshot(path=str(artifacts / "notebook_page.png"), full_page=True)
    assert errors == []


def test_the_printed_class_page_keeps_each_heading_with_its_table(report, browser):
    page = browser.new_page()
    page.goto((report / "index.html").as_uri())
    page.emulate_media(media="print")
    style = page.evaluate("""() => ({
        headings: [...document.querySelectorAll("h1, h2")].map(h => getComputedStyle(h).breakAfter),
        tables: [...document.querySelectorAll("table")].map(t => getComputedStyle(t).breakInside),
        rows: [...document.querySelectorAll("tr")].map(r => getComputedStyle(r).breakInside)})""")
    assert style["headings"] and set(style["headings"]) == {"avoid"}
    assert style["tables"] and set(style["tables"]) == {"avoid"} and set(style["rows"]) == {"avoid"}
    page.emulate_media(media="screen")
    assert page.evaluate("getComputedStyle(document.querySelector('h2')).breakAfter") == "auto"
    ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "class_page.pdf"))
