"""The learner pod KubeSpawner builds, run with `podman kube play` (no cluster here).

The manifest is the real one (tests/spawners/test_kubernetes.py renders it with KubeSpawner itself), the
image the real ml course image (built as tests/test_images.py builds it): the init container copies the
material into the claim, the server starts as uid 1000 under the restricted security context and answers.
Two changes, because there is no cluster: the pod joins this machine's network, and its hub (a real
JupyterHub, which the single-user server checks at start as it would the hub Service) is on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from autoformation import images
from autoformation.catalogue import load_catalogue
from autoformation.settings import Settings

from ..conftest import free_port
from ..test_images import VERSION, built, engine, release  # noqa: F401 (fixtures: the ml image is built first)
from .test_kubernetes import ROOT, configured, dummy_kubeconfig, render  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path):
    """A real JupyterHub on loopback: what the single-user server checks at start (its API's version)."""
    ports = {"hub": free_port(), "proxy": free_port(), "api": free_port()}
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        f"c.JupyterHub.ip = '127.0.0.1'\nc.JupyterHub.port = {ports['proxy']}\n"
        f"c.JupyterHub.hub_ip = '127.0.0.1'\nc.JupyterHub.hub_port = {ports['hub']}\n"
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{ports['api']}'\n"
        f"c.ConfigurableHTTPProxy.command = [{str(ROOT / 'node_modules' / '.bin' / 'configurable-http-proxy')!r}]\n"
        "c.JupyterHub.authenticator_class = 'dummy'\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"})
    url = f"http://127.0.0.1:{ports['hub']}/hub/api"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(30)


def test_the_learner_pod_runs_with_its_material_under_the_restricted_profile(engine, built, hub, tmp_path):  # noqa: F811
    assert engine.has_image(images.tag("ml", VERSION)), built
    settings = Settings()
    settings.kubernetes.image_registry = ""  # the image this machine just built
    settings.courses.version = VERSION
    courses = [c for c in load_catalogue(ROOT / "courses") if c.image == "ml"]
    manifests = render(configured(settings, courses), "alice", profile=courses[0].id)
    pod, pvc = manifests["pod"], manifests["pvc"]
    assert {c["name"] for c in pod["spec"]["initContainers"]} == {"material"}
    pod["metadata"]["name"] = f"af-test-{tmp_path.name[-12:].lower().replace('_', '-')}"
    pvc["metadata"]["name"] = pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = \
        f"{pod['metadata']['name']}-home"
    # No cluster: this machine's network, where the hub is, and a free port for the server.
    port = free_port()
    pod["spec"]["hostNetwork"] = True
    (server_spec,) = pod["spec"]["containers"]
    server_spec.pop("ports", None)  # a port of the host network, not a mapping
    prefix = "/user/alice/"  # what the hub gives a real spawn (the mock user of the rendering has no server)
    replaced = {"JUPYTERHUB_API_URL": hub, "JUPYTERHUB_ACTIVITY_URL": f"{hub}/users/alice/activity",
                "JUPYTERHUB_SERVICE_PREFIX": prefix, "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}{prefix}"}
    server_spec["env"] = [e for e in server_spec["env"] if e["name"] not in replaced]
    server_spec["env"] += [{"name": name, "value": value} for name, value in replaced.items()]
    kube = tmp_path / "learner-pod.yaml"
    kube.write_text(yaml.safe_dump_all([pvc, pod]))
    name = pod["metadata"]["name"]
    played = engine.run("kube", "play", "--replace", str(kube), check=False, timeout=300)
    try:
        assert played.returncode == 0, played.stdout + played.stderr
        server = f"{name}-notebook"
        deadline, answer = time.monotonic() + 120, None
        probe = ("import json, urllib.request; print(json.load(urllib.request.urlopen("
                 f"'http://127.0.0.1:{port}{prefix}api', timeout=5))['version'])")
        while time.monotonic() < deadline:
            answer = engine.run("exec", server, "python", "-c", probe, check=False)
            if answer.returncode == 0:
                break
            time.sleep(2)
        logs = engine.run("logs", server, check=False)
        assert answer and answer.returncode == 0, (answer.stderr if answer else "") + logs.stdout + logs.stderr
        # Jupyter Server answers at the learner's prefix, where the proxy reaches it.
        assert answer.stdout.strip()[:1].isdigit()
        # The init container brought the course material into the learner's home (the claim).
        listing = engine.run("exec", server, "sh", "-c", "id -u; ls /home/jovyan/ml").stdout.split()
        assert listing[0] == "1000" and "01-premiers-modeles" in listing
        inspect = json.loads(engine.run("inspect", server).stdout)[0]
        assert inspect["Config"]["User"].split(":")[0] == "1000"
        assert not inspect["HostConfig"]["Privileged"]
        assert inspect["HostConfig"]["CapAdd"] in (None, []) and "CAP_SYS_ADMIN" not in (
            inspect["EffectiveCaps"] or [])
    finally:
        engine.run("kube", "down", str(kube), check=False, timeout=120)
        engine.run("volume", "rm", "--force", pvc["metadata"]["name"], check=False)
