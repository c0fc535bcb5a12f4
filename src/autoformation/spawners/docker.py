"""Docker backend: one container per learner through DockerSpawner (Docker or Podman's Docker API).

Each course is an entry of the options form running the course's image (`autoformation images
build`). Every learner has one named volume as their home, whatever the course: containers are
removed when the server stops, the volume (their work) stays. At each start, the image's released
material is brought into the home without overwriting the learner's edits, then the server starts.
"""

from __future__ import annotations

import os

from dockerspawner import DockerSpawner

from ..catalogue import Course
from ..settings import Settings, SettingsError
from .admission import START_TIMEOUT_WITH_QUEUE, QueuedStarts
from .kubernetes import COURSE_ENV, HOME, MATERIAL_COMMAND

VOLUME_TEMPLATE = "autoformation-home-{username}"  # one named volume per learner (and named server)
# Bring the material in, then become the single-user server; DockerSpawner appends its arguments,
# which `"$@"` passes on.
START_COMMAND = ["sh", "-c", " ".join(MATERIAL_COMMAND) + ' && exec jupyterhub-singleuser "$@"', "material"]


class QueuedDockerSpawner(QueuedStarts, DockerSpawner):
    """DockerSpawner behind the start queue (the material is copied inside the container, at its start)."""

    phases = {"prepare": "Préparation de votre conteneur…", "server": "Démarrage de votre conteneur…"}


def cpu_shares(niceness: int) -> int:
    """The cgroup CPU weight of a process at this `nice` level (the kernel's table: x1.25 per level)."""
    return max(2, round(1024 / 1.25**niceness))


def host_address() -> str:
    """This machine's non-loopback address (the one its default route uses), or loopback if none.

    Containers reach the hub there; `host.docker.internal`/`host-gateway` is not used because Podman
    4.3 does not provide it, and the proxy (on this machine) resolves the same URL: it must not be a
    name only containers know.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def course_images(courses: list[Course], settings: Settings) -> dict[str, str]:
    """Options form choices: course title -> image (local short names, as `images build` tags them)."""
    return {course.title: course.image_name("", settings.courses.version) for course in courses}


def configure_docker(c, settings: Settings, courses: list[Course]) -> None:
    if not courses:
        raise SettingsError(
            f"spawner.backend is 'docker' but no course was found in {settings.courses_dir} "
            "(setting 'courses.source_dir'): each course becomes an image choice, at least one is needed"
        )
    spawner = settings.spawner
    c.JupyterHub.spawner_class = QueuedDockerSpawner  # its configuration: c.DockerSpawner, below
    c.QueuedDockerSpawner.concurrent_starts = spawner.concurrent_starts or os.cpu_count() or 2
    ds = c.DockerSpawner
    choices = course_images(courses, settings)
    ds.allowed_images = choices
    ds.image = next(iter(choices.values()))
    ds.cmd = list(START_COMMAND)
    # DockerSpawner's own `environment` replaces Spawner.environment (traitlets do not merge): keep the
    # platform's (the grading service's address) and add the course.
    platform_env = c.Spawner.environment if isinstance(c.Spawner.environment, dict) else {}
    ds.environment = {**platform_env, **({COURSE_ENV: courses[0].id} if len(courses) == 1 else {})}
    ds.notebook_dir = HOME
    ds.volumes = {VOLUME_TEMPLATE: HOME}
    ds.remove = True  # containers go on stop; the named volume (the learner's work) stays
    ds.mem_limit = spawner.mem_limit
    ds.cpu_limit = spawner.cpu_limit
    # The local backend's `nice` as a cgroup weight: learners' containers yield the CPU to the hub.
    ds.extra_host_config = {"cpu_shares": cpu_shares(spawner.niceness)}
    ds.start_timeout = max(spawner.start_timeout, START_TIMEOUT_WITH_QUEUE)
    ds.default_url = spawner.default_url
    # The hub API listens on every interface so containers reach it at the host's address; the
    # servers stay published on loopback only (DockerSpawner's host_ip), reached by the proxy.
    port = settings.platform.hub_port
    c.JupyterHub.hub_bind_url = f"http://0.0.0.0:{port}"
    c.JupyterHub.hub_connect_url = f"http://{host_address()}:{port}"
