"""A small 9:00 rush on the local backend: six learners ask for their servers at once.

They start two at a time, in the order they asked; all of them get one; the last one, who waits,
sees her place in the queue in French on the pending page.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request

import nbformat
import psutil
import pytest
from playwright.sync_api import expect

from autoformation.spawners import accounts

from ..conftest import screenshot, sign_in, start_platform, write_realm

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LEARNERS = [f"apprenant{i}" for i in range(1, 7)]
LIMIT = 2


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("storm")
    write_realm(root, {name: ["learners"] for name in LEARNERS})
    release = root / "release" / "ml" / "01-decouverte"
    release.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, release / "bienvenue.ipynb")
    platform = start_platform(root, release_from=root / "release", spawner={"concurrent_starts": LIMIT})
    yield platform
    platform.stop()


def hub_api(platform, cookies: dict, path: str, method: str = "GET"):
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if method != "GET":
        headers["X-XSRFToken"] = cookies["_xsrf"]
    request = urllib.request.Request(f"{platform.url}/hub/api{path}", method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=180) as response:
        return response.status, json.loads(response.read() or b"null")


def test_a_rush_is_served_in_order_and_the_waiting_see_their_place(platform, browser):
    sessions, pages = {}, {}
    for name in LEARNERS:
        page = browser.new_context(locale="fr-FR").new_page()
        page.set_default_timeout(60_000)
        sign_in(page, platform, name, next_url="/hub/home")
        page.wait_for_url(re.compile(r"/hub/home"))
        sessions[name] = {c["name"]: c["value"] for c in page.context.cookies() if c["path"] in ("/", "/hub/")}
        pages[name] = page

    ready, errors = {}, []

    def ask(name: str) -> None:
        try:
            hub_api(platform, sessions[name], f"/users/{name}/server", "POST")
            while True:
                _, model = hub_api(platform, sessions[name], f"/users/{name}")
                server = model["servers"].get("")
                if server and server["ready"]:
                    ready[name] = time.monotonic()
                    return
                if not server or not server.get("pending"):
                    errors.append(f"{name}: no server and none pending: {model}")
                    return
                time.sleep(0.2)
        except Exception as err:  # noqa: BLE001 - reported below, per learner
            errors.append(f"{name}: {err}")

    threads = []
    for name in LEARNERS:  # one after the other, a few tenths of a second apart: that is the order of request
        threads.append(threading.Thread(target=ask, args=(name,)))
        threads[-1].start()
        time.sleep(0.3)
    # Asking again while waiting does not buy a second place in the queue, nor a second server: JupyterHub
    # answers 202 ("already starting") to the learner who is still queued.
    last_name = LEARNERS[-1]
    deadline = time.monotonic() + 30
    while (hub_api(platform, sessions[last_name], f"/users/{last_name}")[1]["servers"].get("", {})
           .get("pending") != "spawn"):
        assert time.monotonic() < deadline, f"{last_name}'s server never showed as pending"
        time.sleep(0.1)
    status, _ = hub_api(platform, sessions[last_name], f"/users/{last_name}/server", "POST")
    assert status == 202
    last = pages[last_name]
    last.goto(f"{platform.url}/hub/spawn-pending/{last_name}")
    expect(last.locator("body")).to_contain_text(re.compile(r"File d'attente : vous êtes n° \d"), timeout=30_000)
    screenshot(last, "spawn-queue")
    for thread in threads:
        thread.join(300)
    assert not errors
    assert set(ready) == set(LEARNERS)
    order = [ready[name] for name in LEARNERS]
    # Within the limit, neighbours may finish in either order; never someone who asked `LIMIT` places later.
    for i in range(len(order)):
        for j in range(i + LIMIT, len(order)):
            assert order[i] <= order[j], f"{LEARNERS[j]} was ready before {LEARNERS[i]}, who asked first"
    servers = [p.info["username"] for p in psutil.process_iter(["username", "cmdline"])
               if any("jupyterhub-singleuser" in part for part in p.info["cmdline"] or ())]
    assert sorted(servers) == sorted(_owner(name) for name in LEARNERS), "one server per learner, no more"
    last.wait_for_url(re.compile(rf"/user/{last_name}/"), timeout=120_000)
    for page in pages.values():
        page.context.close()


def _owner(name: str) -> str:
    """The Unix account a learner's server runs as: theirs when the platform runs as root, else ours."""
    return accounts.system_name(name) if accounts.available() else psutil.Process().username()
