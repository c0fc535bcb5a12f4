"""Sign-in end to end: real hub, real proxy, the embedded OpenID Connect server, a real browser."""

from __future__ import annotations

import re

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


def test_learner_signs_in_and_gets_jupyterlab_with_the_course(platform, page):
    sign_in(page, platform, "alice")
    # The provider sends her back to the hub, which starts her own server with the course in it.
    page.wait_for_url(re.compile(r"/user/alice/lab"), timeout=90_000)
    listing = page.locator(".jp-DirListing-content")
    expect(listing.get_by_text("ml", exact=True)).to_be_visible(timeout=60_000)
    screenshot(page, "learner-jupyterlab")
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
    sign_in(bruno, platform, "bruno")
    bruno.wait_for_url(re.compile(r"/user/bruno/lab"), timeout=90_000)
    assert bruno.request.get(f"{platform.url}/user/bruno/api/contents").status == 200

    sign_in(page, platform, "alice")
    page.wait_for_url(re.compile(r"/user/alice/lab"), timeout=90_000)
    # bruno's server is running; alice's browser follows the OAuth dance and is refused.
    response = page.request.get(f"{platform.url}/user/bruno/api/contents")
    assert response.status == 403
    assert "bienvenue" not in response.text()
    bruno.context.close()


def test_anonymous_visitor_is_sent_to_sign_in(platform):
    assert http_status(f"{platform.url}/hub/home") == 302
    assert http_status(f"{platform.url}/user/alice/lab") == 302
