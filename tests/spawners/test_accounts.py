"""Local backend as root: each learner is their own Unix account and reaches nothing else.

Two learners in the real browser, each in their own JupyterLab, run a probe in their kernel that
tries what a curious or hostile learner would: the other's home, the course sources, the platform's
data and secrets, the git history, writing outside their home.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
from types import SimpleNamespace

import psutil
import pytest
from playwright.sync_api import expect

from autoformation.settings import SettingsError
from autoformation.spawners import accounts

from ..conftest import ROOT, screenshot, sign_in, start_platform, write_realm
from ..test_learning import cell, run_cell

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not accounts.available(), reason="learner accounts need root (as in CI)"),
]
NOTEBOOK = "demo/01-bases/bases.ipynb"

PROBE = r'''
import json, os, pathlib, socket
DATA, ROOT, SOURCES, OTHER = map(pathlib.Path, {paths!r})

def attempt(action):
    try:
        action()
        return "ALLOWED"
    except OSError as err:
        return type(err).__name__

def write(path):
    with open(path, "w") as f:
        f.write("x")

def proxy_environment():
    """The proxy's environment holds its API token (whoever has it can re-route every learner)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = open(f"/proc/{{pid}}/cmdline", "rb").read()
        except OSError:
            continue
        if b"configurable-http-proxy" in cmdline:
            return open(f"/proc/{{pid}}/environ", "rb").read()
    return None

tries = {{
    "list the other's home": lambda: os.listdir(DATA / "homes" / OTHER),
    "read the other's notebook": lambda: open(DATA / "homes" / OTHER / {notebook!r}).read(),
    "list the data folder": lambda: os.listdir(DATA),
    "read the cookie secret": lambda: open(DATA / "hub" / "jupyterhub_cookie_secret", "rb").read(),
    "read the hub database": lambda: open(DATA / "hub" / "jupyterhub.sqlite", "rb").read(16),
    "use the root helper": lambda: socket.socket(socket.AF_UNIX).connect(str(DATA / "run" / "helper.sock")),
    "list the grading data": lambda: os.listdir(DATA / "grading"),
    "read a challenge's labels": lambda: open(DATA / "grading" / "defis" / "prix-immobilier" / "labels.csv").read(),
    "read the OIDC client secret": lambda: open(DATA / "oidc_client_secret").read(),
    "list the course sources": lambda: os.listdir(SOURCES),
    "read a source notebook": lambda: open(SOURCES / "demo" / "source" / "01-bases" / "bases.ipynb").read(),
    "list the project's courses": lambda: os.listdir(ROOT / "courses"),
    "read the git history": lambda: os.listdir(ROOT / ".git" / "objects"),
    "read the settings": lambda: open({settings!r}).read(),
    "write in the other's home": lambda: write(DATA / "homes" / OTHER / "cadeau.txt"),
    "write in the data folder": lambda: write(DATA / "homes" / "intrus.txt"),
    "write in the release": lambda: write(DATA / "release" / "intrus.txt"),
    "write in the project": lambda: write(ROOT / "src" / "intrus.py"),
    "write in the environment": lambda: write(pathlib.Path(os.__file__).parent / "intrus.py"),
    "write in /etc": lambda: write("/etc/intrus"),
    "read the proxy's environment": lambda: proxy_environment() is None and os.environ["NO PROXY FOUND"],
}}
result = {{name: attempt(action) for name, action in tries.items()}}
result["uid"] = os.getuid()
result["own home"] = attempt(lambda: write(pathlib.Path.home() / "mon-fichier.txt"))
result["home"] = str(pathlib.Path.home())
print("PROBE" + json.dumps(result))
'''


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("accounts")
    sources = root / "courses"
    shutil.copytree(ROOT / "tests" / "fixtures" / "courses", sources)
    # carla joins alice's cohort; the cohorts serve as Funathon teams here (prefix "promo-").
    write_realm(root, {"carla": ["learners", "promo-a"]})
    platform = start_platform(root, release=True, courses={"source_dir": str(sources)},
                              challenges={"team_prefix": "promo-"})
    platform.sources = sources
    yield platform
    platform.stop()


def probe(page, platform, username: str, other: str) -> dict:
    """Open the course as the learner does and run the probe in her kernel, in a cell of her notebook."""
    code = PROBE.format(paths=[str(platform.data_dir), str(ROOT), str(platform.sources), other],
                        notebook=NOTEBOOK, settings=str(platform.settings_file))
    return in_kernel(page, platform, username, code)


def in_kernel(page, platform, username: str, code: str) -> dict:
    """Open the course as the learner does and run `code` in her kernel; it prints `PROBE <json>`."""
    sign_in(page, platform, username, next_url="/hub/home")
    page.locator("#course-demo").get_by_role("link", name=re.compile("Commencer|Reprendre")).click()
    page.wait_for_url(re.compile(rf"/user/{username}/lab/tree/" + re.escape(NOTEBOOK)), timeout=120_000)
    expect(page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))).to_be_visible(timeout=120_000)
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    run_cell(page, 1)
    output = cell(page, 1).locator(".jp-OutputArea")
    expect(output).to_contain_text("PROBE", timeout=30_000)
    screenshot(page, f"accounts-probe-{username}")
    return json.loads(output.inner_text().split("PROBE", 1)[1].strip().splitlines()[0])


def test_two_learners_reach_nothing_but_their_own_home(platform, page, browser):
    for secret in ("hub/jupyterhub_cookie_secret", "hub/jupyterhub.sqlite", "oidc_client_secret", "grading",
                   "run/helper.sock",
                   "grading/defis/prix-immobilier/labels.csv"):  # released by `up`, as `make up` does
        assert (platform.data_dir / secret).exists()  # a refusal must not be a missing file
    alice = probe(page, platform, "alice", "bruno")
    other = browser.new_context(locale="fr-FR").new_page()
    other.set_default_timeout(60_000)
    bruno = probe(other, platform, "bruno", "alice")
    for name, seen in (("alice", alice), ("bruno", bruno)):
        allowed = [what for what, outcome in seen.items() if outcome == "ALLOWED" and what != "own home"]
        assert not allowed, f"{name}'s kernel could {allowed}"
        assert seen["read the proxy's environment"] == "PermissionError"  # found, and refused
        assert seen["own home"] == "ALLOWED"
        account = pwd.getpwnam(accounts.system_name(name))
        assert seen["uid"] == account.pw_uid != 0
        assert seen["home"] == str(platform.data_dir / "homes" / name)
        home = platform.data_dir / "homes" / name
        assert home.stat().st_uid == account.pw_uid and home.stat().st_mode & 0o777 == 0o700
        # Her course material was synced as herself.
        assert (home / NOTEBOOK).stat().st_uid == account.pw_uid
    assert alice["uid"] != bruno["uid"]
    # Every process of each learner's server (the server, its kernel) runs under her uid, none as root.
    uids = {}
    for proc in psutil.process_iter(["cmdline", "uids", "environ"]):
        env = proc.info["environ"] or {}
        if env.get("JUPYTERHUB_USER") in ("alice", "bruno") and str(platform.data_dir) in env.get("HOME", ""):
            uids.setdefault(env["JUPYTERHUB_USER"], set()).add(proc.info["uids"].real)
    assert uids == {"alice": {alice["uid"]}, "bruno": {bruno["uid"]}}
    other.context.close()


def test_services_run_with_the_privilege_they_need(platform):
    """The hub, its proxy and the book service as the unprivileged `autoformation` account; as root, the
    grading service (each sandbox gets its own uid and cgroup) and the helper (learners' accounts and
    servers), both started by `up`."""
    port = str(platform.url.rsplit(":", 1)[1])
    markers = {"book": "autoformation.book serve", "hub": "-m jupyterhub -f", "helper": "autoformation.spawners.helper",
               "grading": "autoformation.grading.service", "proxy": "configurable-http-proxy"}
    found = {}
    for proc in psutil.process_iter(["cmdline", "uids", "environ"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        env = proc.info["environ"] or {}
        ours = env.get("AUTOFORMATION_CONFIG") == str(platform.settings_file) or f"--port {port}" in cmdline
        for name, marker in markers.items():
            if ours and marker in cmdline and "setpriv" not in cmdline:
                found[name] = proc.info["uids"].real
    service_uid = pwd.getpwnam(accounts.PLATFORM_USER).pw_uid
    assert found == {"book": service_uid, "proxy": service_uid, "hub": service_uid, "helper": 0, "grading": 0}
    # The helper's socket: the platform account's group only, and it checks who connects.
    sock = platform.data_dir / "run" / "helper.sock"
    assert sock.stat().st_mode & 0o777 == 0o660 and sock.stat().st_gid == pwd.getpwnam(accounts.PLATFORM_USER).pw_gid
    assert service_uid != 0 and not set(os.getgrouplist(accounts.PLATFORM_USER, service_uid)) & {0}


def test_names_become_safe_distinct_accounts():
    assert accounts.system_name("alice") == "jupyter-alice"
    odd = ["Alice.Martin@insee.fr", "alice-martin-insee-fr", "../../etc", "x" * 40, "x" * 41]
    names = [accounts.system_name(n) for n in odd]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"jupyter-[a-z0-9_-]+", name) and len(name) <= 32


def test_a_data_folder_closed_to_others_is_refused_with_a_clear_message(tmp_path):
    closed = tmp_path / "closed"
    (closed / "data").mkdir(parents=True)
    os.chmod(closed, 0o700)
    with pytest.raises(SettingsError, match="learners' accounts cannot reach .*closed/data"):
        accounts.lock_down(SimpleNamespace(data_dir=closed / "data"), ROOT)


def test_a_recreated_account_gets_its_home_back_but_never_what_a_link_points_to(tmp_path):
    homes = tmp_path / "homes"
    homes.mkdir(parents=True)
    home = homes / "zoe"
    target = tmp_path / "secret-of-root"
    target.write_text("x")
    try:
        account = accounts.ensure("zoe", home)
        (home / "cahier.ipynb").write_text("{}")
        (home / "lien").symlink_to(target)
        for path in (home, home / "cahier.ipynb"):
            os.chown(path, 12345, 12345, follow_symlinks=False)  # as left by an older uid
        assert accounts.ensure("zoe", home).pw_uid == account.pw_uid
        assert (home.stat().st_uid, (home / "cahier.ipynb").stat().st_uid) == (account.pw_uid, account.pw_uid)
        assert home.stat().st_mode & 0o777 == 0o700
        assert target.stat().st_uid == 0  # the link was not followed
    finally:
        accounts.remove_under(homes)


TEAM_PROBE = r'''
import json, os, pathlib
home, team, other = pathlib.Path.home(), {team!r}, {other!r}
result = {{}}
def attempt(name, action):
    try:
        result[name] = action()
    except OSError as err:
        result[name] = type(err).__name__
if {write!r}:
    attempt("write", lambda: (home / team / "notes-equipe.txt").write_text("idée : régression sur le log") and "ok")
attempt("read", lambda: (home / team / "notes-equipe.txt").read_text())
attempt("other team", lambda: os.listdir(pathlib.Path({teams!r}) / other))
result["linked"] = (home / team).is_symlink()
print("PROBE", json.dumps(result))
'''


def test_a_team_shares_its_folder_and_no_other_team_reaches_it(platform, page, browser):
    """Funathon teams (here the cohorts, prefix "promo-"): alice and carla (promo-a) share ~/promo-a;
    bruno (promo-b) cannot read it, even through the teams' folder."""
    teams = str(platform.data_dir / "teams")
    alice = in_kernel(page, platform, "alice",
                      TEAM_PROBE.format(team="promo-a", other="promo-b", write=True, teams=teams))
    assert alice["write"] == "ok" and alice["linked"] and alice["other team"] == "PermissionError"
    carla_page = browser.new_context(locale="fr-FR").new_page()
    carla_page.set_default_timeout(60_000)
    carla = in_kernel(carla_page, platform, "carla",
                      TEAM_PROBE.format(team="promo-a", other="promo-b", write=False, teams=teams))
    assert carla["read"] == "idée : régression sur le log" and carla["other team"] == "PermissionError"
    bruno_page = browser.new_context(locale="fr-FR").new_page()
    bruno_page.set_default_timeout(60_000)
    bruno = in_kernel(bruno_page, platform, "bruno",
                      TEAM_PROBE.format(team="promo-b", other="promo-a", write=False, teams=teams))
    assert bruno["linked"] and bruno["other team"] == "PermissionError"
    shared = platform.data_dir / "teams" / "promo-a" / "notes-equipe.txt"
    assert shared.stat().st_mode & 0o077 == 0o060  # the team's group reads and writes it, nobody else
    for context in (carla_page.context, bruno_page.context):
        context.close()


def test_the_root_helper_does_only_what_it_is_for(platform):
    """What a compromised hub could ask the helper (it may connect: root or `autoformation`): names that are
    paths, a server with a command instead of options, signals to processes that are not that learner's."""
    import asyncio
    import concurrent.futures

    from autoformation.spawners.helper import call

    sock = str(platform.data_dir / "run" / "helper.sock")

    def reply(request: dict) -> dict:  # in a thread: the browser tests' Playwright keeps a loop in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, call(sock, request, timeout=60)).result()

    def ask(request: dict) -> str:
        try:
            reply(request)
            return "done"
        except RuntimeError as err:
            return str(err)

    assert "bad name '..'" in ask({"action": "prepare", "user": "..", "teams": []})
    assert "bad name 'a/b'" in ask({"action": "prepare", "user": "alice", "teams": ["a/b"]})
    assert "must be options" in ask({"action": "spawn", "user": "alice", "args": ["-c", "id"], "env": {}})
    assert "unknown action" in ask({"action": "exec", "user": "alice"})
    assert "no account" in ask({"action": "signal", "user": "zorro", "pid": 1, "signal": 15})
    # pid 1 (root's init) is not alice's: reported gone, never signalled.
    assert reply({"action": "signal", "user": "alice", "pid": 1, "signal": 9}) == {"alive": False}
    assert psutil.pid_exists(1)


def test_up_starts_the_grading_service_again_when_it_dies(platform):
    """The hub cannot restart a root service: `up` does."""
    import time
    import urllib.error
    import urllib.request

    def grading_pids() -> set[int]:
        return {p.pid for p in psutil.process_iter(["cmdline", "environ"])
                if "autoformation.grading.service" in " ".join(p.info["cmdline"] or [])
                and (p.info["environ"] or {}).get("AUTOFORMATION_CONFIG") == str(platform.settings_file)}

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    (before,) = grading_pids()
    os.kill(before, 9)
    deadline = time.monotonic() + 30
    answered = None
    while time.monotonic() < deadline:
        after = grading_pids() - {before}
        if after:
            try:  # it answers again through the proxy: to an anonymous visitor, "sign in first"
                urllib.request.build_opener(NoRedirect).open(f"{platform.url}/services/grading/progress", timeout=5)
            except urllib.error.HTTPError as err:
                answered = err.code
            except OSError:
                pass
            if answered in (302, 403):  # the proxy's 503 while it starts: not yet
                break
        time.sleep(0.5)
    assert after and answered in (302, 403), (after, answered)
