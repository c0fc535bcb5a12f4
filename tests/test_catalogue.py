"""The catalogue (the hub's home page), access to the learners' and trainers' services."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, api_token, screenshot, sign_in, start_platform

pytestmark = pytest.mark.browser
FIXTURE_COURSES = ROOT / "tests" / "fixtures" / "courses"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = start_platform(
        tmp_path_factory.mktemp("catalogue"),
        courses={"source_dir": str(FIXTURE_COURSES)},
        trainers={"cohorts": {"claire": ["promo-a"]}},
    )
    yield platform
    platform.stop()


def test_home_page_is_the_catalogue(platform, page):
    sign_in(page, platform, "alice", next_url="/hub/home")
    card = page.locator("#course-demo")
    expect(card).to_contain_text("Cours de démonstration")
    expect(card).to_contain_text("Calculer une moyenne")
    expect(card.locator(".progress-label")).to_contain_text("Pas commencé · 0 %")
    # exercises passed per level (the demo's test_compter is "intermédiaire", the others "débutant")
    expect(card.locator(".levels [data-level='intermédiaire']")).to_have_text("intermédiaire 0/1")
    expect(card.locator(".levels [data-level='débutant']")).to_contain_text("débutant 0/")
    expect(card.locator(".levels [data-level='expert']")).to_have_count(0)
    expect(card.get_by_role("link", name="Commencer")).to_have_attribute("href", "/services/grading/courses/demo")
    expect(page.locator("#trainer-area")).to_have_count(0)  # learners do not see the trainers' area
    # The hub's navigation bar speaks French and leads to her own pages.
    nav = page.locator("#thenavbar")
    expect(nav.get_by_role("link", name="Catalogue")).to_have_attribute("href", "/hub/home")
    expect(nav.get_by_role("link", name="Ma progression")).to_have_attribute("href", "/services/grading/progress")
    expect(nav.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(nav.get_by_text("Logout")).to_have_count(0)
    expect(nav.get_by_role("link", name="Administration")).to_have_count(0)
    screenshot(page, "catalogue")


def test_progress_page_and_its_api_are_per_learner(platform, page, browser):
    sign_in(page, platform, "alice", next_url="/services/grading/progress")
    page.wait_for_url(re.compile(r"/services/grading/progress"))
    expect(page.locator("h1")).to_have_text("Ma progression")
    expect(page.locator("#chart svg")).to_be_visible()
    own = page.request.get(f"{platform.url}/services/grading/api/progress")
    assert own.status == 200 and own.json()["user"] == "alice"

    bruno = browser.new_context().new_page()
    sign_in(bruno, platform, "bruno", next_url="/hub/home")
    bruno.wait_for_url(re.compile(r"/hub/home"))
    other = bruno.request.get(f"{platform.url}/services/grading/api/progress/alice")
    assert other.status == 403
    assert "propre travail" in other.json()["message"]
    bruno.context.close()


def test_learners_get_403_on_the_trainers_service(platform, page, browser):
    sign_in(page, platform, "alice", next_url="/hub/home")
    page.wait_for_url(re.compile(r"/hub/home"))
    for path in ("", "courses/demo", "courses/demo.csv", "grading/1", "feedback/1"):
        response = page.request.get(f"{platform.url}/services/grading/trainers/{path}")
        assert response.status == 403, path
    # A learner cannot give herself the trainers' scope: the hub's token page refuses to put it in a token...
    page.goto(f"{platform.url}/hub/token")
    page.wait_for_load_state("networkidle")
    page.locator("#token-scopes").fill("custom:grading:trainers")
    with page.expect_response(lambda r: "/users/alice/tokens" in r.url and r.request.method == "POST") as asked:
        page.get_by_role("button", name="Request new API token").click()
    assert asked.value.status == 400 and "not held by User alice" in asked.value.text(), asked.value.text()
    expect(page.locator("#token-area")).to_be_hidden()
    # ...and a token of her own (as a script or a notebook holds one) opens no trainers' page either.
    page.context.clear_cookies()
    token = api_token(browser, platform, "alice")
    for method, path in (("GET", "courses/demo.csv"), ("POST", "grading/1")):
        request = urllib.request.Request(f"{platform.url}/services/grading/trainers/{path}", method=method,
                                         data=b"grade_id=x&points=1" if method == "POST" else None,
                                         headers={"Authorization": f"token {token}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403, path
        assert "réservé aux formateurs" in refused.value.read().decode(), path
    # Nor does it act as the hub: record her own material version, read another's progress.
    for method, path, body in (("POST", "api/material/alice", b'{"versions": {"demo": "falsifiee"}}'),
                               ("GET", "api/progress/bruno", None)):
        request = urllib.request.Request(f"{platform.url}/services/grading/{path}", method=method, data=body,
                                         headers={"Authorization": f"token {token}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403, path


def test_trainer_sees_the_trainers_area_and_only_their_cohorts(platform, page, browser):
    # bruno (promo-b) and alice (promo-a) have signed in above; claire follows promo-a only.
    sign_in(page, platform, "claire", next_url="/hub/home")
    page.get_by_role("link", name="Espace formateur").click()
    page.wait_for_url(re.compile(r"/services/grading/trainers/"))
    expect(page.locator("h1")).to_have_text("Espace formateur")
    expect(page.locator("main")).to_contain_text("alice")
    expect(page.locator("main")).not_to_contain_text("bruno")
    page.goto(f"{platform.url}/services/grading/trainers/courses/demo")
    assert page.locator("#learners tr[data-learner=alice]").count() == 1
    assert page.locator("#learners tr[data-learner=bruno]").count() == 0
    screenshot(page, "trainer-dashboard")

    admin = browser.new_context().new_page()
    sign_in(admin, platform, "diane", next_url="/services/grading/trainers/courses/demo")
    admin.wait_for_url(re.compile(r"/services/grading/trainers/courses/demo"))
    assert admin.locator("#learners tr[data-learner=bruno]").count() == 1  # an admin sees everyone
    admin.context.close()


COURSE_YAML = """\
name: {fr: Cours}
abstract: Résumé
authors: [Équipe]
tags: [learn]
level: débutant
timeRequired: 60
objectives: [Comprendre]
image: ml
assignments:
  - {id: 01-a, title: Premier chapitre}
"""


@pytest.mark.parametrize("change, message", [
    (("level: débutant", "level: avancé"), "field 'level' must be one of débutant, intermédiaire, expert"),
    (("timeRequired: 60", "timeRequired: une heure"), "field 'timeRequired' must be a whole number"),
    (("tags: [learn]", "tags: [learn, play]"), "field 'tags.1' must be one of discover, learn"),
    (("image: ml\n", ""), "missing field 'image'"),
    (("name: {fr: Cours}", "name: {en: Course}"), "missing field 'name.fr'"),
    (("  - {id: 01-a, title: Premier chapitre}", "  - {id: 01-a}"), "missing field 'assignments.0.title'"),
    (("assignments:\n  - {id: 01-a, title: Premier chapitre}\n", "assignments: []\n"), "field 'assignments'"),
    (("  - {id: 01-a, title: Premier chapitre}", "  - {id: 02-b, title: Absent}"), "assignment '02-b' has no folder"),
])
def test_a_wrong_course_yaml_is_named_with_its_field(tmp_path, change, message):
    from autoformation.catalogue import CourseError, load_course

    folder = tmp_path / "cours"
    (folder / "source" / "01-a").mkdir(parents=True)
    (folder / "course.yaml").write_text(COURSE_YAML)
    assert load_course(folder).title == "Cours"
    (folder / "course.yaml").write_text(COURSE_YAML.replace(*change))
    with pytest.raises(CourseError, match=re.escape(message)):
        load_course(folder)
