"""Shared fixtures: a real platform (`autoformation up`) on free loopback ports, and a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from autoformation.spawners import accounts

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
REALM = ROOT / "hub_config" / "keycloak" / "realm-autoformation.json"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "formation"


_given: set[int] = set()


def free_port() -> int:
    """A free loopback port, never the same twice in a test session."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port


@dataclass
class Platform:
    """A running platform, started the way a user starts it: `autoformation up --config FILE`."""

    url: str
    root: Path  # tmp folder with settings.yaml, realm.json, data/
    settings_file: Path
    realm_file: Path
    data_dir: Path
    proc: subprocess.Popen
    log: Path

    def hub_db(self):
        """The hub's database: in DATA/hub when `up` ran as root (the hub's own folder), else in DATA."""
        path = next(p for p in (self.data_dir / "hub" / "jupyterhub.sqlite", self.data_dir / "jupyterhub.sqlite")
                    if p.exists())
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def hub_users(self) -> set[str]:
        with self.hub_db() as db:
            return {name for (name,) in db.execute("select name from users")}

    def hub_groups_of(self, username: str) -> set[str]:
        with self.hub_db() as db:
            rows = db.execute(
                "select g.name from groups g join user_group_map m on m.group_id = g.id "
                "join users u on u.id = m.user_id where u.name = ?",
                (username,),
            )
            return {name for (name,) in rows}

    def is_admin(self, username: str) -> bool:
        with self.hub_db() as db:
            row = db.execute("select admin from users where name = ?", (username,)).fetchone()
            return bool(row and row[0])

    def set_realm_groups(self, username: str, groups: list[str]) -> None:
        """Change a user's groups in the identity provider (as an admin would in Keycloak)."""
        realm = json.loads(self.realm_file.read_text())
        for user in realm["users"]:
            if user["username"] == username:
                user["groups"] = [f"/{g}" for g in groups]
        self.realm_file.write_text(json.dumps(realm, indent=1))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if accounts.available():  # the learners' Unix accounts this platform created
            accounts.remove_under(self.data_dir / "homes")


def write_settings(root: Path, **sections) -> Path:
    """A settings file on free ports in `root`, with a copy of the realm export the test may edit."""
    # pytest's temporary folders are closed to others; learners' accounts must reach their homes.
    for folder in [root, *root.parents]:
        if folder.stat().st_uid == os.geteuid() and not folder.stat().st_mode & 0o001:
            folder.chmod(folder.stat().st_mode | 0o001)
    realm_file = root / "realm.json"
    if not realm_file.exists():
        shutil.copy(REALM, realm_file)
    port = free_port()
    values = {
        "platform": {
            "port": port,
            "hub_port": free_port(),
            "proxy_api_port": free_port(),
            "data_dir": str(root / "data"),
        },
        "identity": {"provider": "embedded", "realm_file": str(realm_file), "embedded_port": free_port()},
        "culler": {"enabled": False},
        "grading": {"port": free_port()},
        "book": {"port": free_port()},
    }
    for section, overrides in sections.items():
        values.setdefault(section, {}).update(overrides)
    path = root / "settings.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def start_platform(
    root: Path, release_from: Path | None = None, env: dict | None = None, release: bool = False, **sections
) -> Platform:
    """Start `autoformation up`; with release=True it releases the courses first, as `make up` does."""
    settings_file = write_settings(root, **sections)
    values = yaml.safe_load(settings_file.read_text())
    data_dir = Path(values["platform"]["data_dir"])
    if release_from is not None:
        shutil.copytree(release_from, data_dir / "release", dirs_exist_ok=True)
    log = root / "up.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoformation.cli", "up", "--config", str(settings_file)]
        + ([] if release else ["--skip-release"]) + ["--skip-book"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{values['platform']['port']}"
    platform = Platform(url, root, settings_file, root / "realm.json", data_dir, proc, log)
    deadline = time.monotonic() + 300
    while "Autoformation is up" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            platform.stop()
            pytest.fail(f"the platform did not start:\n{log.read_text()}")
        time.sleep(0.3)
    return platform


def http_status(url: str, **headers) -> int:
    req = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture(scope="module")
def browser():
    # Per module: Playwright's sync API keeps an event loop running while it is open, which
    # would break later tests that run asyncio themselves.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, platform: Platform, username: str, password: str = PASSWORD, next_url: str = "") -> None:
    """Sign in through the hub's login page and the identity provider's form, as a person does."""
    page.goto(f"{platform.url}/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.click("#sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def api_token(browser, platform: Platform, username: str) -> str:
    """A user's own API token, requested on the hub's token page as a person does (the page's script
    must be ready: a click before it is becomes a plain form submission)."""
    page = browser.new_context().new_page()
    sign_in(page, platform, username, next_url="/hub/token")
    page.wait_for_url(re.compile(r"/hub/token"))
    page.wait_for_load_state("networkidle")
    result = page.locator("#token-result")
    for _ in range(3):
        page.get_by_role("button", name="Request new API token").click()
        try:
            result.wait_for(state="visible", timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - the click came too early: the page reloaded, click again
            page.wait_for_load_state("networkidle")
    token = result.inner_text().strip()
    page.context.close()
    assert token, f"no API token for {username}"
    return token


def write_realm(root: Path, users: dict[str, list[str]]) -> Path:
    """The demo realm plus `users` (name -> groups), at `root/realm.json` where `start_platform` finds it."""
    realm = json.loads(REALM.read_text())
    realm["users"] += [{"username": name, "enabled": True, "firstName": name, "lastName": "Test",
                        "email": f"{name}@example.org", "emailVerified": True,
                        "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
                        "groups": [f"/{g}" for g in groups]} for name, groups in users.items()]
    path = root / "realm.json"
    path.write_text(json.dumps(realm))
    return path


def notebook_points(notebook: Path) -> tuple[float, float]:
    """(points graded automatically, points a trainer grades) of a course notebook: tests follow the course."""
    from autoformation.notebooks import notebook_exercises

    found = notebook_exercises(notebook)
    return sum(e.points for e in found if not e.manual), sum(e.points for e in found if e.manual)
