"""Docker backend: DockerSpawner configured by `configure_docker`, against Podman's Docker API.

The container is created and started by DockerSpawner itself (its `create_object`/`start_object`),
from the ml image `autoformation images build` makes; we check the limits, the learner's named
volume, and that the material sync ran in it before the server command. The hub end-to-end
(learners signing in) belongs to the hub test harness.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from unittest.mock import Mock

import pytest
from dockerspawner import DockerSpawner
from jupyterhub.objects import Hub, Server
from traitlets.config import Config

from autoformation import images
from autoformation.catalogue import load_catalogue
from autoformation.settings import Settings, SettingsError
from autoformation.spawners.docker import HOME, VOLUME_TEMPLATE, configure_docker

ROOT = Path(__file__).resolve().parents[2]
COURSES = load_catalogue(ROOT / "courses")


class MockUser(Mock):
    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.id = 7
        self.server = Server()

    @property
    def escaped_name(self):
        return self.name

    @property
    def url(self):
        return self.server.url


def docker_config(courses=COURSES) -> Config:
    c = Config()
    settings = Settings()
    settings.spawner.mem_limit = "300M"
    configure_docker(c, settings, courses)
    return c


def test_configuration_offers_each_course_image():
    c = docker_config()
    ds = c.DockerSpawner
    assert issubclass(c.JupyterHub.spawner_class, DockerSpawner)  # behind the start queue
    assert set(ds.allowed_images.values()) == {f"autoformation-{k.image}:2026.11" for k in COURSES}
    assert ds.volumes == {VOLUME_TEMPLATE: HOME} and ds.remove is True
    assert ds.cmd[:2] == ["sh", "-c"] and "autoformation.material" in ds.cmd[2]
    with pytest.raises(SettingsError, match="no course"):
        configure_docker(Config(), Settings(), [])


def test_containers_keep_the_platform_environment_and_reach_grading_beyond_loopback(tmp_path):
    from autoformation.hub import configure
    from autoformation.spawners.docker import host_address

    settings = Settings()
    settings.platform.data_dir = str(tmp_path)
    settings.spawner.backend = "docker"
    settings.courses.source_dir = str(ROOT / "courses")
    c = Config()
    configure(c, settings, standalone=False)
    url = c.DockerSpawner.environment["AUTOFORMATION_GRADING_URL"]
    assert url == f"http://{host_address()}:{settings.grading.port}/services/grading/"
    grading = next(s for s in c.JupyterHub.services if s["name"] == "grading")
    assert grading["url"] == f"http://{host_address()}:{settings.grading.port}"


@pytest.fixture(scope="module")
def docker_host(tmp_path_factory, built):
    """Podman's Docker API on a socket, with the ml image built (cached) as tests/test_images.py builds it."""
    from tests.test_images import STATE_DIR, VERSION, _podman_or_skip

    engine = _podman_or_skip()
    assert engine.has_image(images.tag("ml", VERSION)), built
    sock = tmp_path_factory.mktemp("docker") / "podman.sock"
    service = subprocess.Popen(
        [*engine.command, "system", "service", "--time=0", f"unix://{sock}"],
        env=engine.environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.1)
    yield f"unix://{sock}", engine
    service.terminate()
    service.wait(timeout=20)
    assert STATE_DIR.exists()


from tests.test_images import built, engine, release  # noqa: E402, F401 (fixtures: the image is built first)


async def _spawn(config: Config, host: str, username: str):
    from dockerspawner import DockerSpawner

    spawner = DockerSpawner(config=config, user=MockUser(username), hub=Hub())
    spawner.client_kwargs = {"base_url": host}
    spawner.user_options = {}
    created = await spawner.create_object()  # what DockerSpawner.start does, minus waiting for the hub
    spawner.object_id = created[spawner.object_id_key]
    await spawner.start_object()
    return spawner


@pytest.mark.slow
def test_container_has_limits_and_named_home_and_material(docker_host, monkeypatch):
    import docker

    host, engine = docker_host
    config = docker_config([c for c in COURSES if c.image == "ml"])
    config.DockerSpawner.remove = False  # keep it to inspect; removed below
    username = f"learner{int(time.time())}"
    client = docker.DockerClient(base_url=host)
    volume = VOLUME_TEMPLATE.format(username=username)
    try:
        spawner = asyncio.run(_spawn(config, host, username))
        container = client.containers.get(spawner.container_name)
        attrs = container.attrs
        assert attrs["HostConfig"]["Memory"] == 300 * 1024 * 1024
        assert attrs["HostConfig"]["CpuShares"] == 110  # nice 10's weight: the hub keeps the CPU it needs
        mounts = {m.get("Name"): m["Destination"] for m in attrs["Mounts"]}
        assert mounts.get(volume) == HOME
        # The material sync runs first, in the learner's volume, then the server.
        listing = None
        for _ in range(120):
            done = container.exec_run(["sh", "-c", f"test -f {HOME}/.autoformation/material.json && ls {HOME}/ml"])
            if done.exit_code == 0:
                listing = done.output.decode()
                break
            time.sleep(0.5)
        assert listing is not None, container.logs().decode()[-2000:]
        assert "01-premiers-modeles" in listing
        assert container.exec_run("id -u").output.decode().strip() == "1000"
    finally:
        for leftover in client.containers.list(all=True, filters={"volume": volume}):
            leftover.remove(force=True)
        for leftover in client.volumes.list(filters={"name": volume}):
            leftover.remove(force=True)
