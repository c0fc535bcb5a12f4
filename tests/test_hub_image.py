"""The hub image (images/hub), built with Podman and run the way the Zero to JupyterHub chart runs it.

The chart's own `jupyterhub_config.py` is not on these machines in CI (see hub_config/helm/README.md);
`CHART_PRELUDE` below sets what it sets that the platform relies on (KubeSpawner, the proxy in its
own pod, the culler service and role, `hub.db.url`), then runs the project's `hub.extraConfig` from
hub_config/helm/values.yaml as the chart does. The container runs as uid 1000, with the settings file,
the config and the book's volume mounted where the chart mounts them, PostgreSQL (a throw-away server on
loopback) as the hub's and the grading service's database, as in the values; the proxy is a real
configurable-http-proxy on this machine (the chart's proxy pod), no Kubernetes API at all.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from autoformation import images

from .conftest import ROOT, free_port
from .spawners.test_kubernetes import CHART_DIR, needs_chart
from .support.postgres import postgres_url  # noqa: F401 (fixture)
from .test_images import VERSION, engine  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow
VALUES = yaml.safe_load((ROOT / "hub_config" / "helm" / "values.yaml").read_text())
CHART_PRELUDE = """
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.JupyterHub.hub_connect_url = "http://hub:8081"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.cleanup_servers = False
c.JupyterHub.db_url = "{hub_db}"
c.JupyterHub.services = [{{"name": "jupyterhub-idle-culler", "command": ["python3", "-m", "jupyterhub_idle_culler"]}}]
c.JupyterHub.load_roles = [{{"name": "jupyterhub-idle-culler", "services": ["jupyterhub-idle-culler"],
                           "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}}]
"""


@pytest.fixture(scope="module")
def hub_image(engine):  # noqa: F811
    result = subprocess.run(
        [sys.executable, "-m", "autoformation.cli", "images", "build", "hub", "--local-podman", "--host-ca",
         "--no-registry-tag"], capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return images.tag("hub", VERSION)


def test_hub_image_ships_the_pinned_hub_and_the_chart_needs(engine, hub_image):  # noqa: F811
    probe = ("import jupyterhub, kubespawner, oauthenticator, pycurl, psycopg2, autoformation.hub, os; "
             "print(jupyterhub.__version__, kubespawner.__version__, oauthenticator.__version__, os.getuid())")
    out = engine.run("run", "--rm", "--network=none", hub_image, "python", "-c", probe)
    assert out.stdout.split() == ["6.1.1", "7.1.0", "17.4.0", "1000"]
    listing = engine.run("run", "--rm", "--network=none", hub_image, "ls", "/srv/autoformation/courses").stdout.split()
    assert {"ml", "nlp", "git", "webscraping"} <= set(listing)


@pytest.fixture
def book_volume(engine, tmp_path):  # noqa: F811
    """The book's image (`autoformation images build book`, here from a stand-in built book) and the hub
    pod's init container run as the values run it: the HTML copied into the volume the hub mounts."""
    html = tmp_path / "book-html"
    html.mkdir()
    (html / "index.html").write_text("<!doctype html><title>Livre</title><h1>Les cours en ligne</h1>")
    (build,) = images.plan([images.BOOK], tmp_path, ROOT / "courses", book_html=html)
    images.build_images(engine, [build], VERSION)
    volume = tmp_path / "book"
    volume.mkdir()
    os.chown(volume, 1000, 100)  # an emptyDir, writable by the pod's users
    (init,) = VALUES["hub"]["initContainers"]
    mount = init["volumeMounts"][0]["mountPath"]
    engine.run("run", "--rm", "--network=none", "--read-only", "--user", "1000:100", "--cap-drop=ALL",
               "--volume", f"{volume}:{mount}", images.tag(images.BOOK, VERSION), *init["command"])
    return volume


def databases(server_url: str) -> dict[str, str]:
    """The hub's and the grading service's databases, made on the test server (as an admin would)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    urls = {}
    with engine.connect() as db:
        for name in ("autoformation_hub", "autoformation_grading"):
            db.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
            db.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
            urls[name] = server_url.rsplit("/", 1)[0] + f"/{name}"
    engine.dispose()
    return urls


def tables(url: str) -> set[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def platform_settings(ports: dict, urls: dict) -> dict:
    """The settings file of the values, with this test's ports and grading database."""
    settings = VALUES["hub"]["extraFiles"]["autoformation-settings"]["data"]
    assert settings["grading"]["db_url"].endswith("/autoformation_grading")
    assert VALUES["hub"]["db"]["url"].endswith("/autoformation_hub")
    return {**settings, "grading": {**settings["grading"], "port": ports["grading"],
                                    "db_url": urls["autoformation_grading"]},
            "book": {**settings["book"], "port": ports["book"]}}


def run_and_check(engine, hub_image, run_options: list[str], ports: dict, token: str, urls: dict,  # noqa: F811
                  volume, command: list[str] = ()) -> None:
    """Start the hub container with a real proxy on this machine; check what the chart's deployment needs."""
    proxy = subprocess.Popen(
        [str(ROOT / "node_modules" / ".bin" / "configurable-http-proxy"), "--ip", "127.0.0.1",
         "--port", str(ports["proxy"]), "--api-ip", "127.0.0.1", "--api-port", str(ports["proxy_api"])],
        env={**os.environ, "CONFIGPROXY_AUTH_TOKEN": token}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    name = f"autoformation-hub-test-{ports['proxy']}"
    book_mount = VALUES["hub"]["extraVolumeMounts"][0]["mountPath"]
    try:
        engine.run(
            "run", "--detach", "--name", name, "--network=host", "--user", "1000:100",
            *[f"--add-host={host}:127.0.0.1" for host in ("hub", "proxy-api", "proxy-public")],
            "--volume", f"{volume}:/srv/jupyterhub", "--volume", f"{volume.parent / 'book'}:{book_mount}:ro",
            *run_options, hub_image, *command,
        )  # fmt: skip
        deadline, healthy = time.monotonic() + 180, False
        while time.monotonic() < deadline and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports['hub']}/hub/health", timeout=2) as r:
                    healthy = r.status == 200
            except OSError:
                time.sleep(0.5)
        printed = engine.run("logs", name, check=False)
        logs = printed.stdout + printed.stderr
        assert healthy, logs[-4000:]
        # It registered the platform's services with the proxy, reached through the hub Service.
        request = urllib.request.Request(f"http://127.0.0.1:{ports['proxy_api']}/api/routes",
                                         headers={"Authorization": f"token {token}"})
        targets: dict = {}
        while time.monotonic() < deadline and "/services/book" not in targets:
            with urllib.request.urlopen(request, timeout=5) as r:
                targets = {path.rstrip("/"): route["target"] for path, route in json.loads(r.read()).items()}
            time.sleep(0.5)
        printed = engine.run("logs", name, check=False)
        logs = printed.stdout + printed.stderr
        assert targets.get("/services/grading") == f"http://hub:{ports['grading']}", (targets, logs[-3000:])
        assert targets["/services/book"] == f"http://hub:{ports['book']}", targets
        # No Kubernetes API here: the hub starts anyway (KubeSpawner needs it only to spawn).
        assert "KUBERNETES_SERVICE_HOST" not in logs
        # Its database and the grading service's are PostgreSQL's (the grading schema by its migrations).
        assert {"users", "servers", "alembic_version"} <= tables(urls["autoformation_hub"])
        assert {"af_submission", "af_alembic_version"} <= tables(urls["autoformation_grading"])
        assert not (volume / "jupyterhub.sqlite").exists()
        # The grading service made the challenges' hidden labels in its own folder, not from the image.
        hidden = volume / "autoformation" / "grading" / "defis"
        assert (hidden / "prix-immobilier" / "labels.csv").is_file(), logs[-3000:]
        labels = engine.run("run", "--rm", "--network=none", hub_image, "sh", "-c",
                            "find / -xdev -name labels.csv 2>/dev/null | wc -l").stdout.strip()
        assert labels == "0"
        # The book service serves the book from its image.
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['book']}/services/book/", timeout=10) as r:
            assert "Les cours en ligne" in r.read().decode()
    finally:
        engine.run("rm", "--force", name, check=False)
        proxy.terminate()
        proxy.wait(10)


def scratch_volume(tmp_path):
    volume = tmp_path / "srv"
    volume.mkdir()
    os.chown(volume, 1000, 100)  # the hub's home (scratch: its data is in PostgreSQL), writable by its uid
    return volume


def test_hub_image_starts_the_platform_as_the_chart_runs_it(engine, hub_image, book_volume, postgres_url,  # noqa: F811
                                                            tmp_path):
    """With a prelude standing for the chart's config (the chart is not beside every checkout)."""
    ports = {name: free_port() for name in ("hub", "proxy", "proxy_api", "grading", "book")}
    urls = databases(postgres_url)
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump(platform_settings(ports, urls), allow_unicode=True))
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (extra,) = VALUES["hub"]["extraConfig"].values()
    (config_dir / "jupyterhub_config.py").write_text(
        CHART_PRELUDE.format(hub_port=ports["hub"], proxy_api_port=ports["proxy_api"],
                             hub_db=urls["autoformation_hub"]) + "\n" + extra)
    token = secrets.token_hex(16)
    mount = VALUES["hub"]["extraFiles"]["autoformation-settings"]["mountPath"]
    run_and_check(engine, hub_image, [
        "--volume", f"{config_dir}:/usr/local/etc/jupyterhub:ro", "--volume", f"{settings_file}:{mount}:ro",
        "--env", f"AUTOFORMATION_CONFIG={mount}", "--env", "AUTOFORMATION_OIDC_CLIENT_SECRET=secret-de-test",
        "--env", f"CONFIGPROXY_AUTH_TOKEN={token}", "--env", f"JPY_COOKIE_SECRET={secrets.token_hex(32)}",
    ], ports, token, urls, scratch_volume(tmp_path))


@needs_chart
def test_hub_image_runs_with_the_charts_own_configuration(engine, hub_image, book_volume, postgres_url,  # noqa: F811
                                                         tmp_path):
    """The chart rendered by Helm with the values (this test's database and ports); its hub Deployment's
    files mounted as it mounts them (its jupyterhub_config.py, z2jh.py, config and Secret, the settings)
    and its environment (Secrets resolved from the rendered ones, Services' variables for this machine)."""
    import base64

    import helm_python

    ports = {name: free_port() for name in ("proxy", "proxy_api", "grading", "book")} | {"hub": 8081}
    with socket.socket() as probe:  # the chart's hub listens on 8081, always
        if probe.connect_ex(("127.0.0.1", 8081)) == 0:
            pytest.skip("port 8081 (the chart's fixed hub port) is in use on this machine")
    urls = databases(postgres_url)
    values = copy.deepcopy(VALUES)
    values["hub"]["db"]["url"] = urls["autoformation_hub"]
    values["hub"]["extraFiles"]["autoformation-settings"]["data"] = platform_settings(ports, urls)
    files = helm_python.Chart.load(CHART_DIR).render(values, name="autoformation", namespace="autoformation")
    rendered = {(o["kind"], o["metadata"]["name"]): o for path, text in files.items() if path.endswith(".yaml")
                for o in yaml.safe_load_all(text) if isinstance(o, dict)}
    deployment = rendered[("Deployment", "hub")]["spec"]["template"]["spec"]
    (container,) = deployment["containers"]
    config = rendered[("ConfigMap", "hub")]["data"]
    secret = {k: base64.b64decode(v).decode() for k, v in rendered[("Secret", "hub")]["data"].items()}
    secret |= rendered[("Secret", "hub")].get("stringData", {})  # hub.extraFiles: the settings file
    volumes = {v["name"]: v for v in deployment["volumes"]}
    options = []
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]]
        data = config if "configMap" in source else secret if "secret" in source else None
        if data is None:
            continue  # the book's emptyDir: mounted by run_and_check
        items = {i["key"]: i["path"] for i in source["secret"].get("items", [])} if "secret" in source else {}
        folder = tmp_path / "chart" / mount["name"]
        folder.mkdir(parents=True, exist_ok=True)
        for key, text in data.items():
            if not items or key in items:
                (folder / items.get(key, key)).write_text(text)
        host = folder / mount["subPath"] if "subPath" in mount else folder
        options += ["--volume", f"{host}:{mount['mountPath']}:ro"]
    env = {"POD_NAMESPACE": "autoformation", "AUTOFORMATION_OIDC_CLIENT_SECRET": "secret-de-test",
           "HUB_SERVICE_PORT": "8081", "PROXY_API_SERVICE_PORT": str(ports["proxy_api"]),
           "PROXY_PUBLIC_SERVICE_PORT": str(ports["proxy"])}
    for var in container["env"]:
        ref = (var.get("valueFrom") or {}).get("secretKeyRef")
        if "value" in var:
            env[var["name"]] = var["value"]
        elif ref and ref["name"] == "hub":
            env[var["name"]] = secret[ref["key"]]
    token = env["CONFIGPROXY_AUTH_TOKEN"]
    options += [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
    assert "command" not in container  # the image's entrypoint (tini), then the chart's arguments
    run_and_check(engine, hub_image, options, ports, token, urls, scratch_volume(tmp_path), container["args"])
