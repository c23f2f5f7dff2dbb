"""The class report in a real browser: headless Debian chromium driven by playwright, no console errors."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from grader import batch
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
    batch.grade(SUBMISSIONS, out, Settings(), jobs=2)
    return out


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


def test_class_page_links_to_a_student_page_with_the_parameter_table(report, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    page.goto((report / "index.html").as_uri())
    assert page.locator("svg.histogram rect").count() == 10
    assert page.locator("table.students tbody tr").count() >= 9
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "class_page.png"), full_page=True)

    page.locator("table.students a").filter(has_text=re.compile(r"^planted_bugs(\.py)?$")).first.click()
    page.wait_for_load_state()
    assert re.search(r"/planted_bugs(\.py)?\.html$", page.url)
    table = page.locator("table.parameters").first
    assert table.is_visible()
    rows = {row.locator("td").first.inner_text(): row.locator("td").nth(2).inner_text()
            for row in table.locator("tbody tr").all()}
    assert rows["dW2"] == "FAIL" and rows["db1"] == "FAIL" and rows["dW1"] == "PASS"
    page.screenshot(path=str(ARTIFACTS / "student_page.png"), full_page=True)
    assert errors == []
