"""Sign-in end to end: real hub, real proxy, the embedded OpenID Connect server, a real browser."""

from __future__ import annotations

import re
import threading
import time
import urllib.request

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import http_status, screenshot, sign_in, start_platform

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A small released course, as `autoformation courses release` lays it out."""
    root = tmp_path_factory.mktemp("release")
    folder = root / "ml" / "01-decouverte"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Bienvenue"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, folder / "bienvenue.ipynb")
    (root / "ml" / "release.json").write_text('{"course": "ml", "version": "test"}')
    return root


@pytest.fixture(scope="module")
def platform(tmp_path_factory, release):
    platform = start_platform(tmp_path_factory.mktemp("platform"), release_from=release)
    yield platform
    platform.stop()


def server_running(platform, username: str) -> bool:
    with platform.hub_db() as db:
        row = db.execute("select s.server_id from spawners s join users u on s.user_id = u.id where u.name = ?",
                         (username,)).fetchone()
    return bool(row and row[0])


def test_learner_signs_in_on_the_catalogue_and_starts_her_environment(platform, page):
    sign_in(page, platform, "alice")
    # She lands on the catalogue; nothing starts until she asks.
    page.wait_for_url(re.compile(r"/hub/home"), timeout=60_000)
    expect(page.get_by_role("heading", name="Catalogue des formations")).to_be_visible()
    assert not server_running(platform, "alice")
    # Her server's address, while it is not running: a French page that leads to the catalogue.
    page.goto(f"{platform.url}/hub/spawn-pending/alice")
    expect(page.get_by_role("heading", name="Votre environnement n'est pas démarré")).to_be_visible()
    expect(page.get_by_role("button", name="Aller au catalogue")).to_have_attribute("href", "/hub/home")
    # Starting: the pending page is French too, then JupyterLab opens with the course in her home.
    cookies = [c for c in page.context.cookies() if c["path"] in ("/", "/hub/")]
    xsrf = next(c["value"] for c in cookies if c["name"] == "_xsrf")
    request = urllib.request.Request(
        f"{platform.url}/hub/api/users/alice/server", method="POST",
        headers={"X-XSRFToken": xsrf, "Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)},
    )
    # The API answers once the server is up (a few seconds): meanwhile she looks at the pending page.
    starting = threading.Thread(target=lambda: urllib.request.urlopen(request, timeout=120).read())
    starting.start()
    time.sleep(0.5)
    page.goto(f"{platform.url}/hub/spawn-pending/alice")
    expect(page.get_by_role("heading", name="Votre environnement démarre…")).to_be_visible()
    expect(page.locator("#progress-details summary")).to_have_text("Journal")
    screenshot(page, "spawn-pending")
    page.wait_for_url(re.compile(r"/user/alice/"), timeout=90_000)
    starting.join(120)
    assert server_running(platform, "alice")
    listing = page.request.get(f"{platform.url}/user/alice/api/contents")
    assert listing.ok and "ml" in {item["name"] for item in listing.json()["content"]}
    assert (platform.data_dir / "homes" / "alice" / "ml" / "01-decouverte" / "bienvenue.ipynb").is_file()
    assert platform.hub_groups_of("alice") >= {"learners", "promo-a"}
    assert not platform.is_admin("alice")


def test_trainer_is_in_the_trainers_group_and_admin_is_admin(platform, page, browser):
    sign_in(page, platform, "claire", next_url="/hub/home")
    page.wait_for_url(re.compile(r"/hub/home"))
    assert "trainers" in platform.hub_groups_of("claire")
    assert not platform.is_admin("claire")

    other = browser.new_context().new_page()
    sign_in(other, platform, "diane", next_url="/hub/home")
    other.wait_for_url(re.compile(r"/hub/home"))
    assert platform.is_admin("diane")
    other.context.close()


def test_user_in_no_allowed_group_is_refused_and_not_created(platform, page):
    sign_in(page, platform, "eric")
    expect(page.locator("body")).to_contain_text("aucun groupe autorisé")
    screenshot(page, "refused-user")
    assert "eric" not in platform.hub_users()


def test_wrong_password_stays_on_the_provider_form(platform, page):
    sign_in(page, platform, "alice", password="pas-le-bon")
    expect(page.locator("[role=alert]")).to_contain_text("Identifiant ou mot de passe incorrect")


def test_group_change_takes_effect_at_next_sign_in(platform, page, browser):
    sign_in(page, platform, "bruno", next_url="/hub/home")
    page.wait_for_url(re.compile(r"/hub/home"))
    assert "learners" in platform.hub_groups_of("bruno")

    # An admin moves bruno from learners to trainers in the identity provider.
    platform.set_realm_groups("bruno", ["trainers", "promo-b"])
    again = browser.new_context().new_page()
    sign_in(again, platform, "bruno", next_url="/hub/home")
    again.wait_for_url(re.compile(r"/hub/home"))
    assert platform.hub_groups_of("bruno") == {"trainers", "promo-b"}

    # Then removes him from every allowed group: his next sign-in is refused.
    platform.set_realm_groups("bruno", ["promo-b"])
    third = browser.new_context().new_page()
    sign_in(third, platform, "bruno")
    expect(third.locator("body")).to_contain_text("aucun groupe autorisé")
    for p in (again, third):
        p.context.close()


def test_logout_ends_the_provider_session(platform, page):
    sign_in(page, platform, "alice", next_url="/hub/home")
    page.wait_for_url(re.compile(r"/hub/home"))
    page.goto(f"{platform.url}/hub/logout")
    # The hub sends the browser to the provider's end-session endpoint, which asks to confirm.
    assert "/protocol/openid-connect/logout" in page.url
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/hub/login"))
    # The provider session is gone: signing in again asks for the password.
    page.click("#sign-in")
    expect(page.locator("#password")).to_be_visible()


def test_learner_cannot_reach_another_learners_server(platform, page, browser):
    bruno = browser.new_context().new_page()
    platform.set_realm_groups("bruno", ["learners", "promo-b"])
    sign_in(bruno, platform, "bruno", next_url="/hub/spawn")
    bruno.wait_for_url(re.compile(r"/user/bruno/lab"), timeout=90_000)
    assert bruno.request.get(f"{platform.url}/user/bruno/api/contents").status == 200

    sign_in(page, platform, "alice", next_url="/hub/spawn")
    page.wait_for_url(re.compile(r"/user/alice/lab"), timeout=90_000)
    # bruno's server is running; alice's browser follows the OAuth dance and is refused.
    response = page.request.get(f"{platform.url}/user/bruno/api/contents")
    assert response.status == 403
    assert "bienvenue" not in response.text()
    bruno.context.close()


def test_anonymous_visitor_is_sent_to_sign_in(platform):
    assert http_status(f"{platform.url}/hub/home") == 302
    assert http_status(f"{platform.url}/user/alice/lab") == 302
