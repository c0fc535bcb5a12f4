"""The hub with `spawner.backend: docker` against Podman's Docker API, end to end.

Two learners sign in through the OIDC form in the real browser and get their servers in two
containers of the ml image (`autoformation images build`, as tests/test_images.py builds it);
through the hub we check JupyterLab answers for each, the memory limit, that each container only
mounts its own learner's volume, and that stopping a server removes the container but keeps the
volume and the learner's files. Containers reach the hub at this machine's non-loopback address
(`host_address()`: Podman 4.3 has no `host-gateway`); their servers are published on loopback only.
"""

from __future__ import annotations

import shlex
import time

import pytest
from playwright.sync_api import expect

from autoformation.catalogue import load_catalogue
from autoformation.spawners.docker import HOME, VOLUME_TEMPLATE
from tests.conftest import ROOT, notebook_points, sign_in, start_platform, write_realm
from tests.spawners.test_docker import built, docker_host, engine, release  # noqa: F401 (fixtures)

ML = next(c for c in load_catalogue(ROOT / "courses") if c.image == "ml")
ML_01 = ROOT / "courses" / "ml" / "source" / "01-premiers-modeles" / "01-premiers-modeles.ipynb"


def _start_server(page, platform, username: str, signed_in: bool = False) -> None:
    if not signed_in:
        sign_in(page, platform, username)
        page.wait_for_url("**/hub/**")
    page.goto(f"{platform.url}/hub/spawn")
    if page.locator("select[name=image]").count():
        page.select_option("select[name=image]", label=ML.title)
        page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{username}/**", timeout=240_000)


def _contents(page, platform, username: str, path: str = ""):
    return page.request.get(f"{platform.url}/user/{username}/api/contents/{path}")


@pytest.mark.slow
def test_two_learners_in_two_containers(docker_host, browser, tmp_path):  # noqa: F811
    import docker

    host, engine = docker_host
    client = docker.DockerClient(base_url=host)
    write_realm(tmp_path, {"alix": ["learners", "equipe-a"]})  # a Funathon team member; bruno is in none
    # Submissions are graded in a container of the course's image (grading.sandbox: auto, the docker
    # backend's): the engine is this machine's podman, with its configuration.
    podman = shlex.join(["env", *[f"{k}={v}" for k, v in engine.env.items()], *engine.command])
    platform = start_platform(
        tmp_path, release=True, spawner={"backend": "docker", "mem_limit": "512M"}, env={"DOCKER_HOST": host},
        grading={"engine": podman},
    )
    contexts = {}
    try:
        pages = {}
        for name in ("alix", "bruno"):
            contexts[name] = browser.new_context(locale="fr-FR")
            contexts[name].set_default_timeout(60_000)
            pages[name] = contexts[name].new_page()
            _start_server(pages[name], platform, name)
            listing = _contents(pages[name], platform, name)
            assert listing.ok, listing.text()
            assert "ml" in {item["name"] for item in listing.json()["content"]}
        containers = {c.name: c for c in client.containers.list()}
        for name in ("alix", "bruno"):
            container = containers[f"jupyter-{name}"]
            assert container.attrs["HostConfig"]["Memory"] == 512 * 1024 * 1024
            mounts = {m.get("Name") or m["Source"]: m["Destination"] for m in container.attrs["Mounts"]}
            team = {f"{platform.data_dir / 'teams' / 'equipe-a'}": f"{HOME}/equipe-a"} if name == "alix" else {}
            assert mounts == {VOLUME_TEMPLATE.format(username=name): HOME, **team}
        # alix's container sees only her home: no trace of bruno's volume.
        alix = containers["jupyter-alix"]
        # "Soumettre" from inside her container reaches the grading service at this machine's address, with
        # her server's own token (the JupyterLab button's server side runs this same code).
        notebook = f"{HOME}/ml/01-premiers-modeles/01-premiers-modeles.ipynb"
        submitted = alix.exec_run(["autoformation", "submit", notebook], user="jovyan", environment={"HOME": HOME})
        report = submitted.output.decode()
        assert submitted.exit_code == 0 and "Votre notebook a été corrigé." in report, report
        # The test image carries the source notebooks (solutions included, see tests/test_images.py).
        auto, manual = notebook_points(ML_01)
        assert (f"Score : {auto:g} / {auto + manual:g} (dont {manual:g} point(s) en attente de la correction d'un "
                "formateur)") in report, report
        # ... graded in a container of the ml image (the docker backend's sandbox), gone once done.
        events = engine.run("events", "--stream=false", "--since", "10m", "--filter", "event=start",
                            "--format", "{{.Name}} {{.Image}}", check=False).stdout
        assert any(line.startswith("autoformation-grading-") and "autoformation-ml" in line
                   for line in events.splitlines()), events
        assert not any(c.name.startswith("autoformation-grading-") for c in client.containers.list(all=True))
        assert alix.exec_run(["sh", "-c", "ls /home; mount | grep -c bruno || true"]).output.decode().split() == [
            "jovyan",
            "0",
        ]
        # Her team's shared folder is hers to write (the container's user), on the host where teammates get it.
        wrote = alix.exec_run(["sh", "-c", f"echo idée > {HOME}/equipe-a/pistes.txt"], user="jovyan")
        assert wrote.exit_code == 0, wrote.output
        shared = platform.data_dir / "teams" / "equipe-a" / "pistes.txt"
        assert shared.read_text() == "idée\n" and shared.stat().st_uid == 1000
        assert oct(shared.parent.stat().st_mode & 0o7777) == "0o2770"
        # Her JupyterLab in the container is the one of the local backend: "Soumettre", no nbgrader tools.
        page = pages["alix"]
        page.goto(f"{platform.url}/user/alix/lab/tree/ml/01-premiers-modeles/01-premiers-modeles.ipynb")
        expect(page.get_by_role("button", name="Soumettre", exact=True)).to_be_visible(timeout=120_000)
        expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_have_count(0)
        # Pressing it grades the notebook: from the container through this machine's address, as above.
        page.get_by_role("button", name="Soumettre", exact=True).click()
        dialog = page.locator("#autoformation-submit-dialog[data-status=done]")
        expect(dialog).to_be_visible(timeout=240_000)
        auto, manual = notebook_points(ML_01)
        expect(dialog).to_contain_text(f"Score : {auto:g} / {auto + manual:g}")
        assert page.request.get(f"{platform.url}/user/alix/formgrader").status == 404
        # A file alix writes survives stopping and restarting her server; the container goes, the volume stays.
        xsrf = next(c["value"] for c in contexts["alix"].cookies() if c["name"] == "_xsrf")
        put = page.request.put(
            f"{platform.url}/user/alix/api/contents/notes.txt",
            data={"type": "file", "format": "text", "content": "mes notes"},
            headers={"X-XSRFToken": xsrf},
        )
        assert put.ok, put.text()
        admin = browser.new_context()
        admin_page = admin.new_page()
        sign_in(admin_page, platform, "diane")
        admin_page.wait_for_url("**/hub/**")
        admin_page.goto(f"{platform.url}/hub/admin")
        xsrf_admin = next(c["value"] for c in admin.cookies() if c["name"] == "_xsrf")
        stop = admin_page.request.delete(
            f"{platform.url}/hub/api/users/alix/server", headers={"X-XSRFToken": xsrf_admin}
        )
        assert stop.status in (202, 204), stop.text()
        deadline = time.monotonic() + 60
        while any(c.name == "jupyter-alix" for c in client.containers.list(all=True)):
            assert time.monotonic() < deadline, "alix's container was not removed"
            time.sleep(1)
        assert client.volumes.get(VOLUME_TEMPLATE.format(username="alix"))
        admin.close()
        _start_server(page, platform, "alix", signed_in=True)
        kept = _contents(page, platform, "alix", "notes.txt?content=1")
        assert kept.ok and kept.json()["content"] == "mes notes"
    finally:
        for context in contexts.values():
            context.close()
        platform.stop()
        for name in ("alix", "bruno"):
            for leftover in client.containers.list(all=True, filters={"name": f"jupyter-{name}"}):
                leftover.remove(force=True)
            for leftover in client.volumes.list(filters={"name": VOLUME_TEMPLATE.format(username=name)}):
                leftover.remove(force=True)
