"""The self-paced loop in a real browser: catalogue, self-check, submit, feedback, progress."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from .conftest import screenshot, sign_in, start_platform

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    # The real courses, released as `make up` releases them.
    platform = start_platform(tmp_path_factory.mktemp("learning"), release=True)
    yield platform
    platform.stop()


def cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def set_cell(page, index: int, code: str) -> None:
    cell(page, index).locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)  # no auto-closed brackets


def run_cell(page, index: int) -> None:
    """Run a cell as a person does (Ctrl+Enter) and wait until the kernel has run it."""
    prompt = cell(page, index).locator(".jp-InputPrompt")
    before = prompt.inner_text()
    check = "([el, before]) => { const t = el.innerText.trim(); return t !== before.trim() && /\\[\\d+\\]/.test(t); }"
    for attempt in range(2):  # a key press sent while the editor was still taking focus is lost: press again
        cell(page, index).locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_function(check, arg=[prompt.element_handle(), before], timeout=45_000 * (attempt + 1))
            return
        except PlaywrightTimeout:
            if attempt:
                raise


NOTEBOOK = "ml/01-premiers-modeles/01-premiers-modeles.ipynb"
WRONG = 'part_revenu_eleve = enquete["revenu_eleve"].sum() / 100'
RIGHT = 'part_revenu_eleve = enquete["revenu_eleve"].mean()'


def test_learner_checks_submits_and_sees_progress(platform, page, browser):
    sign_in(page, platform, "alice", next_url="/hub/home")
    ml = page.locator("#course-ml")
    expect(ml.locator(".progress-label")).to_contain_text("Pas commencé · 0 %")
    ml.get_by_role("link", name="Commencer").click()
    # Her server starts and JupyterLab opens the course's first notebook.
    page.wait_for_url(re.compile(r"/user/alice/lab/tree/" + re.escape(NOTEBOOK)), timeout=120_000)
    expect(cell(page, 2)).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))).to_be_visible(timeout=120_000)
    # A learner sees "Soumettre", not nbgrader's trainer tools (menu, Validate button, formgrader).
    expect(page.get_by_role("button", name="Soumettre", exact=True)).to_be_visible()
    expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_have_count(0)
    expect(page.get_by_role("button", name="Validate")).to_have_count(0)
    assert page.request.get(f"{platform.url}/user/alice/formgrader").status == 404
    run_cell(page, 2)  # loads the survey

    # A wrong answer to exercise 1: its check fails with the hint.
    set_cell(page, 5, WRONG)
    run_cell(page, 5)
    run_cell(page, 6)
    output = cell(page, 6).locator(".jp-OutputArea")
    expect(output).to_contain_text("Pas encore", timeout=60_000)
    expect(output).to_contain_text("Indice : utilisez .mean() plutôt que .sum()")
    screenshot(page, "self-check-fails")

    # Fixed: the check passes.
    set_cell(page, 5, RIGHT)
    run_cell(page, 5)
    run_cell(page, 6)
    expect(output).to_contain_text("Premières vérifications réussies", timeout=60_000)
    screenshot(page, "self-check-passes")

    # Submit from JupyterLab: the button saves, sends, and shows the result when graded.
    page.get_by_role("button", name="Soumettre", exact=True).click()
    dialog = page.locator("#autoformation-submit-dialog[data-status=done]")
    expect(dialog).to_be_visible(timeout=240_000)
    expect(dialog.locator("tr[data-grade-id=ex1-part-tests]")).to_have_class(re.compile("af-passed"))
    expect(dialog.locator("tr[data-grade-id=ex2-separer-tests]")).to_have_class(re.compile("af-failed"))
    screenshot(page, "submitted")
    with page.context.expect_page() as feedback_tab:
        dialog.get_by_role("link", name="Voir la correction").click()
    feedback = feedback_tab.value
    expect(feedback.locator("body")).to_contain_text(re.compile(r"Note : 1 / \d+"))
    expect(feedback.locator("body")).to_contain_text("Premières vérifications réussies")  # her check, as graded
    assert "BEGIN HIDDEN TESTS" not in feedback.content()
    screenshot(feedback, "feedback")
    feedback.close()

    # The catalogue shows her progress.
    page.goto(f"{platform.url}/hub/home")
    expect(ml.locator(".progress-label")).to_contain_text("En cours")
    assert ml.get_attribute("data-status") == "in_progress"
    expect(ml.get_by_role("link", name="Reprendre")).to_be_visible()
    percent = int(ml.locator("[role=progressbar]").get_attribute("aria-valuenow"))
    assert percent > 0
    screenshot(page, "catalogue-progress")

    # Another learner can read neither her feedback nor her progress.
    sub_id = page.request.get(f"{platform.url}/services/grading/api/submissions").json()["submissions"][0]["id"]
    bruno = browser.new_context().new_page()
    sign_in(bruno, platform, "bruno", next_url="/hub/home")
    bruno.wait_for_url(re.compile(r"/hub/home"))
    assert bruno.request.get(f"{platform.url}/services/grading/feedback/{sub_id}").status == 403
    assert bruno.request.get(f"{platform.url}/services/grading/api/submissions/{sub_id}").status == 403
    assert bruno.request.get(f"{platform.url}/services/grading/api/progress/alice").status == 403
    bruno.context.close()
