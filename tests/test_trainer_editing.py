"""A trainer edits a course where they read it (JupyterLab, their working copy), publishes, and learners
get the new version at their next start with their answers kept: in a real browser, on a real platform."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, screenshot, sign_in, start_platform
from .test_learning import cell, set_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "mini/01-bases/01-bases.ipynb"
SOURCE = "sources/mini/source/01-bases/01-bases.ipynb"
NEW_LESSON = "# Les bases, version 2\nLisez le fichier valeurs.csv, puis additionnez ses valeurs."
NEW_TESTS = ('assert total == 6, "total devrait valoir 6 : additionnez les trois valeurs du fichier."\n'
             "### BEGIN HIDDEN TESTS\n"
             '_valeurs = [int(l) for l in open("data/valeurs.csv").read().split()[1:]]\n'
             'assert isinstance(total, int) and total == sum(_valeurs), "Nouvel indice : lisez toutes les lignes."\n'
             "### END HIDDEN TESTS\n"
             'print("✔ Premières vérifications réussies.")')
BROKEN_TESTS = NEW_TESTS.replace("total == sum(_valeurs)", "total == sum(_valeurs) + 1")


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("editing")
    shutil.copytree(ROOT / "tests" / "courses" / "fixtures" / "mini", root / "courses" / "mini")
    platform = start_platform(root, release=True, courses={"source_dir": str(root / "courses")})
    yield platform
    platform.stop()


def open_notebook(page, platform, user: str, path: str) -> None:
    """Start the server if it is not running (as the catalogue does), then open the notebook in JupyterLab."""
    page.goto(f"{platform.url}/hub/spawn?next=/user/{user}/lab/tree/{path}")
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=180_000)
    expect(cell(page, 3)).to_be_visible(timeout=180_000)
    expect(page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))).to_be_visible(timeout=120_000)


def save(page) -> None:
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-mod-current .jp-mod-dirty")).to_have_count(0, timeout=30_000)


def edit_markdown(page, index: int, text: str) -> None:
    cell(page, index).locator(".jp-MarkdownOutput").dblclick()  # a rendered text cell opens its editor
    editor = cell(page, index).locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Shift+Enter")  # rendered again
    expect(cell(page, index).locator(".jp-MarkdownOutput")).to_contain_text(text.splitlines()[0].lstrip("# "))


def publish(page, platform) -> str:
    page.goto(f"{platform.url}/services/grading/trainers/courses/mini/publish")
    page.locator("#publish").click()
    finished = page.locator("#publication:not([data-state=running])")
    expect(finished).to_be_visible(timeout=300_000)  # the page refreshes itself while the check runs
    return finished.get_attribute("data-state")


def test_trainer_edits_in_jupyterlab_publishes_and_learners_keep_their_answers(platform, browser):
    # alice answers the first exercise in her notebook, then stops for the day.
    alice = browser.new_context().new_page()
    sign_in(alice, platform, "alice", next_url="/hub/home")
    alice.wait_for_url(re.compile(r"/hub/home"))
    open_notebook(alice, platform, "alice", NOTEBOOK)
    set_cell(alice, 2, "total = sum(valeurs)  # ma réponse")
    save(alice)
    # A learner has no working copy of the sources, and cannot publish (nor see the page).
    assert not (platform.data_dir / "homes" / "alice" / "sources").exists()
    publish_url = f"{platform.url}/services/grading/trainers/courses/mini/publish"
    assert alice.request.get(publish_url).status == 403
    assert alice.request.post(publish_url, max_redirects=0).status == 403
    alice.goto(f"{platform.url}/hub/home")
    alice.locator("#stop").click()
    expect(alice.locator("#stop")).to_be_hidden(timeout=60_000)

    # claire, a trainer, has the course's sources in her own JupyterLab, with nbgrader's tools.
    claire = browser.new_context().new_page()
    sign_in(claire, platform, "claire", next_url="/hub/home")
    claire.wait_for_url(re.compile(r"/hub/home"))
    open_notebook(claire, platform, "claire", SOURCE)
    expect(claire.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_have_count(1)
    screenshot(claire, "trainer-source-notebook")
    # She rewrites the lesson and, by mistake, a hidden test the solution fails: nothing is published.
    edit_markdown(claire, 0, NEW_LESSON)
    set_cell(claire, 3, BROKEN_TESTS)
    save(claire)
    assert publish(claire, platform) == "failed"
    expect(claire.locator("#log")).to_contain_text("cell 'test_somme': raises AssertionError: Nouvel indice")
    screenshot(claire, "trainer-publish-failed")
    release = platform.data_dir / "release" / NOTEBOOK
    assert "version 2" not in release.read_text()  # learners still get the previous version
    # She fixes the test and publishes again.
    open_notebook(claire, platform, "claire", SOURCE)
    set_cell(claire, 3, NEW_TESTS)
    save(claire)
    state = publish(claire, platform)
    assert state == "published", claire.locator("#log").inner_text()
    screenshot(claire, "trainer-published")
    source = json.loads((platform.root / "courses" / "mini" / "source" / "01-bases" / "01-bases.ipynb").read_text())
    assert "Nouvel indice" in "".join(source["cells"][3]["source"])  # the platform's sources are hers
    released = release.read_text()
    assert "version 2" in released and "Nouvel indice" not in released  # hidden tests stay hidden

    # alice's next start: the new lesson and checks, her answer where she left it.
    open_notebook(alice, platform, "alice", NOTEBOOK)
    expect(cell(alice, 0)).to_contain_text("Les bases, version 2")
    expect(cell(alice, 2)).to_contain_text("total = sum(valeurs)  # ma réponse")
    expect(cell(alice, 3)).to_contain_text("additionnez les trois valeurs du fichier")
    screenshot(alice, "learner-merged-notebook")
    backups = list((platform.data_dir / "homes" / "alice" / ".autoformation" / "backups").rglob("*"))
    assert any(p.is_file() for p in backups)  # her previous file, kept
    alice.context.close()
    claire.context.close()
