"""A real Keycloak is one setting away; a provider that is down gets a readable page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from autoformation.identity import SERVER, demo_accounts

from .conftest import REALM, free_port, screenshot, sign_in, start_platform

pytestmark = pytest.mark.browser


def start_keycloak_stand_in(port: int, hub_url: str, secret: str) -> subprocess.Popen:
    """The embedded server run on its own, as a separate 'Keycloak' the platform points at."""
    env = dict(
        os.environ,
        OIDC_PORT=str(port),
        OIDC_REALM_FILE=str(REALM),
        OIDC_CLIENT_SECRET=secret,
        OIDC_REDIRECT_URIS=f"{hub_url}/hub/oauth_callback",
        OIDC_POST_LOGOUT_REDIRECT_URIS=f"{hub_url}/hub/login",
    )
    proc = subprocess.Popen([shutil.which("node"), str(SERVER)], env=env, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/realms/autoformation/.well-known/openid-configuration")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("the stand-in Keycloak did not start")


def test_keycloak_provider_setting_and_provider_down(tmp_path, page):
    port, idp_port = free_port(), free_port()
    hub_url = f"http://127.0.0.1:{port}"
    keycloak = start_keycloak_stand_in(idp_port, hub_url, secret="secret-from-the-vault")
    platform = start_platform(
        tmp_path,
        env={"AUTOFORMATION_OIDC_CLIENT_SECRET": "secret-from-the-vault"},
        platform={"port": port},
        identity={"provider": "keycloak", "url": f"http://127.0.0.1:{idp_port}"},
    )
    try:
        assert "Sign-in: Keycloak at" in platform.log.read_text()
        sign_in(page, platform, "claire", next_url="/hub/home")
        page.wait_for_url(re.compile(r"/hub/home"))
        assert "trainers" in platform.hub_groups_of("claire")

        keycloak.terminate()
        keycloak.wait()
        page.context.clear_cookies()
        page.goto(f"{platform.url}/hub/login")
        page.click("#sign-in")
        expect(page.locator("h1")).to_have_text("Service indisponible")
        expect(page.locator("body")).to_contain_text("Le service d'identification ne répond pas")
        screenshot(page, "identity-provider-down")
    finally:
        keycloak.kill()
        platform.stop()


def test_demo_accounts_come_from_the_realm_export():
    accounts = {user: groups for user, _, groups in demo_accounts(REALM)}
    assert accounts["alice"] == ["learners", "promo-a"]
    assert accounts["claire"] == ["trainers", "promo-a"]
