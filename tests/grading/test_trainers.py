"""The trainers' area in a real browser: follow a cohort, grade free-text answers, export to CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import nbformat
import pytest
from playwright.sync_api import expect

from ..conftest import screenshot, sign_in, start_platform

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "01-premiers-modeles.ipynb"
ASSIGNMENT = "01-premiers-modeles"
MANUAL = "q-fuite-et-test"
COMMENT = "Bonne intuition, mais précisez le rôle du jeu de test."


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = start_platform(
        tmp_path_factory.mktemp("trainers"), release=True, trainers={"cohorts": {"claire": ["promo-a"]}}
    )
    yield platform
    platform.stop()


def released_notebook_with_answer(platform) -> dict:
    # The learner version this platform released (in its own data folder).
    nb = nbformat.read(platform.data_dir / "release" / "ml" / ASSIGNMENT / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == MANUAL:
            cell.source = "Le modèle ne doit jamais voir le jeu de test pendant l'apprentissage."
    return json.loads(nbformat.writes(nb))


def submit_and_wait(page, platform) -> dict:
    api = f"{platform.url}/services/grading/api/submissions"
    content = released_notebook_with_answer(platform)
    body = {"course": "ml", "assignment": ASSIGNMENT, "notebook": NOTEBOOK, "content": content}
    # The service's XSRF cookie (set by its pages), sent back as the header, as a page's script would.
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf" and not c["path"].startswith("/hub"))
    headers = {"Content-Type": "application/json", "X-XSRFToken": xsrf}
    response = page.request.post(api, data=json.dumps(body), headers=headers)
    assert response.status == 202, response.text()
    sub_id = response.json()["id"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        sub = page.request.get(f"{api}/{sub_id}").json()
        if sub["status"] == "done":
            assert sub["result"] == "graded", sub
            return sub
        time.sleep(2)
    pytest.fail(f"submission {sub_id} not graded in time")


def learner_page(browser, platform, name):
    """A learner signed in to the grading service (its OAuth cookie set, as after any visit)."""
    page = browser.new_context().new_page()
    sign_in(page, platform, name, next_url="/services/grading/progress")
    page.wait_for_url(re.compile(r"/services/grading/progress"))
    return page


def gradebook_scores(platform) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    from autoformation.grading.gradebook import gradebook_url
    from autoformation.settings import load

    settings = load(platform.settings_file)
    scores = {}
    with Gradebook(gradebook_url(settings, "ml"), course_id="ml") as gb:
        for student in gb.students:
            for assignment in gb.assignments:
                for nb in assignment.notebooks:
                    try:
                        sub = gb.find_submission_notebook(nb.name, assignment.name, student.id)
                    except Exception:  # noqa: BLE001 - nbgrader's MissingEntry: not submitted
                        continue
                    scores[(student.id, f"{assignment.name}/{nb.name}.ipynb")] = sub.score
    return scores


def csv_rows(page, url) -> list[dict]:
    response = page.request.get(url)
    assert response.status == 200, response.text()
    return list(csv.DictReader(io.StringIO(response.text())))


def test_trainer_follows_grades_and_exports(platform, page, browser):
    alice = learner_page(browser, platform, "alice")
    bruno = learner_page(browser, platform, "bruno")
    alice_sub = submit_and_wait(alice, platform)
    bruno_sub = submit_and_wait(bruno, platform)

    # claire follows promo-a: alice's submission, with the score the grading service stored; no bruno.
    sign_in(page, platform, "claire", next_url="/hub/home")
    page.get_by_role("link", name="Espace formateur").click()
    page.wait_for_url(re.compile(r"/services/grading/trainers/"))
    page.goto(f"{platform.url}/services/grading/trainers/courses/ml")
    row = page.locator(f"#learners tr[data-learner=alice][data-notebook='{ASSIGNMENT}/{NOTEBOOK}']")
    expect(row.locator(".score")).to_have_text(f"{alice_sub['score']:g} / {alice_sub['max_score']:g}")
    assert page.locator("#learners tr[data-learner=bruno]").count() == 0
    assert page.locator(".charts figure svg").count() >= 1
    screenshot(page, "trainer-course-ml")

    # The CSV holds no bruno either, even when asking for his cohort.
    csv_url = f"{platform.url}/services/grading/trainers/courses/ml.csv"
    assert all(r["learner"] != "bruno" for r in csv_rows(page, csv_url))
    assert csv_rows(page, f"{platform.url}/services/grading/trainers/courses/ml.csv?cohort=promo-b") == []
    assert page.request.get(f"{platform.url}/services/grading/trainers/grading/{bruno_sub['id']}").status == 404
    assert page.request.get(f"{platform.url}/services/grading/trainers/feedback/{bruno_sub['id']}").status == 404

    # claire grades alice's free-text answer.
    row.get_by_role("link", name="Noter les réponses rédigées").click()
    answer = page.locator(f"#answer-{MANUAL}")
    expect(answer).to_contain_text("jeu de test")
    answer.locator("input[name=points]").fill("1,5")
    answer.locator("textarea[name=comment]").fill(COMMENT)
    answer.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#saved")).to_contain_text(MANUAL)
    screenshot(page, "trainer-grading")

    # alice sees the grade and the comment in her feedback, and her progress counts it.
    alice.goto(f"{platform.url}/services/grading/feedback/{alice_sub['id']}")
    body = alice.locator("body")
    expect(body).to_contain_text("Correction du formateur")
    expect(body).to_contain_text(COMMENT)
    expect(body).to_contain_text(f"{MANUAL} : 1.5 / 2")
    screenshot(alice, "feedback-with-trainer-grade")
    progress = alice.request.get(f"{platform.url}/services/grading/api/progress").json()
    ml = next(c for c in progress["courses"] if c["course"] == "ml")
    nb = next(n for n in ml["notebooks"] if n["path"].endswith(NOTEBOOK))
    manual = next(e for e in nb["exercises"] if e["grade_id"] == MANUAL)
    assert manual["manual"] and manual["points"] == 1.5, manual

    # The CSV export and nbgrader's gradebook agree, manual grade included (claire and diane alike).
    gradebook = gradebook_scores(platform)
    assert gradebook[("alice", f"{ASSIGNMENT}/{NOTEBOOK}")] == pytest.approx(alice_sub["score"] + 1.5)
    claire_rows = {
        (r["learner"], f"{r['assignment']}/{r['notebook']}"): float(r["score"])
        for r in csv_rows(page, f"{platform.url}/services/grading/trainers/courses/ml.csv") if r["score"]
    }
    assert claire_rows == {k: v for k, v in gradebook.items() if k[0] == "alice"}
    diane = browser.new_context().new_page()
    sign_in(diane, platform, "diane", next_url="/services/grading/trainers/")
    diane.wait_for_url(re.compile(r"/services/grading/trainers/"))
    diane_rows = {
        (r["learner"], f"{r['assignment']}/{r['notebook']}"): float(r["score"])
        for r in csv_rows(diane, f"{platform.url}/services/grading/trainers/courses/ml.csv") if r["score"]
    }
    assert diane_rows == gradebook
    assert ("bruno", f"{ASSIGNMENT}/{NOTEBOOK}") in diane_rows
    for p in (alice, bruno, diane):
        p.context.close()


def start_server(page, platform, name) -> None:
    page.goto(f"{platform.url}/hub/spawn")
    page.wait_for_url(re.compile(rf"/user/{name}/"), timeout=120_000)


def stop_server(page, platform, name) -> None:
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf" and c["path"].startswith("/hub"))
    response = page.request.delete(f"{platform.url}/hub/api/users/{name}/server", headers={"X-XSRFToken": xsrf})
    assert response.status in (202, 204), response.text()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = page.request.get(f"{platform.url}/hub/api/user", headers={"X-XSRFToken": xsrf}).json()
        if not status.get("servers"):
            return
        time.sleep(1)
    pytest.fail(f"{name}'s server did not stop")


def test_a_new_release_reaches_the_dashboard_without_overwriting_work(platform, page, browser):
    import subprocess
    import sys

    import yaml

    from autoformation.settings import load

    settings = load(platform.settings_file)
    alice = learner_page(browser, platform, "alice")
    start_server(alice, platform, "alice")
    mine = settings.homes_dir / "alice" / "ml" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(mine, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Mes notes à moi."))
    nbformat.write(nb, mine)
    stop_server(alice, platform, "alice")

    values = yaml.safe_load(platform.settings_file.read_text())
    values.setdefault("courses", {})["version"] = "2099.1"
    settings_file = platform.settings_file
    settings_file.write_text(yaml.safe_dump(values))
    subprocess.run(
        [sys.executable, "-m", "autoformation.cli", "courses", "release", "ml", "--config", str(settings_file)],
        check=True, capture_output=True, timeout=240,
    )
    assert json.loads((settings.release_dir / "ml" / "release.json").read_text())["version"] == "2099.1"

    start_server(alice, platform, "alice")
    assert "Mes notes à moi." in mine.read_text()  # her edited notebook was kept
    sign_in(page, platform, "claire", next_url="/services/grading/trainers/courses/ml")
    page.wait_for_url(re.compile(r"/services/grading/trainers/courses/ml"))
    row = page.locator(f"#learners tr[data-learner=alice][data-notebook='{ASSIGNMENT}/{NOTEBOOK}']")
    expect(row.locator("td").nth(5)).to_have_text("2099.1")
    screenshot(page, "trainer-course-new-version")
    stop_server(alice, platform, "alice")
    alice.context.close()
