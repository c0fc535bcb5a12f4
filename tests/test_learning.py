"""The self-paced loop in a real browser: catalogue, self-check, submit, feedback, progress."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, screenshot, sign_in, start_platform

pytestmark = [pytest.mark.browser, pytest.mark.slow]
COURSES = ROOT / "tests" / "fixtures" / "courses"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("learning")
    platform = start_platform(root, courses={"source_dir": str(COURSES)}, release=True)
    yield platform
    platform.stop()


def set_cell(page, index: int, code: str) -> None:
    editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(code)


def run_cell(page, index: int) -> None:
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content").click()
    page.keyboard.press("Control+Enter")


def output_of(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")


def test_learner_checks_submits_and_sees_progress(platform, page, browser):
    sign_in(page, platform, "alice", next_url="/hub/home")
    expect(page.locator("#course-demo .progress-label")).to_contain_text("0 %")
    page.locator("#course-demo").get_by_role("link", name="Commencer").click()
    # Her server starts and JupyterLab opens the course's first notebook.
    page.wait_for_url(re.compile(r"/user/alice/lab/tree/demo/01-bases/bases.ipynb"), timeout=120_000)
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    run_cell(page, 1)  # reads the data

    # A wrong answer: the check fails and shows its hint.
    set_cell(page, 3, "def moyenne(liste):\n return sum(liste)")
    run_cell(page, 3)
    run_cell(page, 4)
    expect(output_of(page, 4)).to_contain_text("Pas encore", timeout=60_000)
    expect(output_of(page, 4)).to_contain_text("Indice : divisez la somme par le nombre")
    screenshot(page, "self-check-fails")

    # Fixed: the check passes.
    set_cell(page, 3, "def moyenne(liste):\n return sum(liste) / len(liste)")
    run_cell(page, 3)
    run_cell(page, 4)
    expect(output_of(page, 4)).to_contain_text("Bravo, c'est juste !", timeout=60_000)
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-mod-current .jp-mod-dirty")).to_have_count(0)

    # Submit from the progression page, wait for the grading, open the feedback.
    page.goto(f"{platform.url}/services/grading/progression")
    row = page.locator("tr[data-path='demo/01-bases/bases.ipynb']")
    row.get_by_role("button", name="Soumettre pour correction").click()
    expect(page.locator("#score")).to_have_text("2 / 4", timeout=180_000)
    screenshot(page, "grading-result")
    page.locator("#open-feedback").click()
    expect(page.locator("body")).to_contain_text("test_moyenne")
    assert "moyenne([1, 2, 3, 4])" not in page.content()  # hidden tests never shown
    screenshot(page, "feedback")

    # The catalogue shows the progress.
    page.goto(f"{platform.url}/hub/home")
    expect(page.locator("#course-demo .progress-label")).to_contain_text("En cours · 50 %")
    expect(page.locator("#course-demo").get_by_role("link", name="Reprendre")).to_be_visible()

    # Another learner cannot read alice's feedback.
    sub_id = page.request.get(f"{platform.url}/services/grading/api/submissions").json()["submissions"][0]["id"]
    bruno = browser.new_context().new_page()
    sign_in(bruno, platform, "bruno", next_url="/hub/home")
    bruno.wait_for_url(re.compile(r"/hub/home"))
    assert bruno.request.get(f"{platform.url}/services/grading/feedback/{sub_id}").status == 403
    assert bruno.request.get(f"{platform.url}/services/grading/api/submissions/{sub_id}").status == 403
    bruno.context.close()
