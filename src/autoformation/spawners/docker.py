"""Docker backend: one container per learner through DockerSpawner (Docker or Podman's Docker API).

Each course is an entry of the options form running the course's image (`autoformation images
build`). Every learner has one named volume as their home, whatever the course: containers are
removed when the server stops, the volume (their work) stays. At each start, the image's released
material is brought into the home without overwriting the learner's edits, then the server starts.
A Funathon team's shared folder (`DATA/teams/<team>`) is mounted at `~/<team>` in its members'
containers only.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from dockerspawner import DockerSpawner
from traitlets import Integer, Unicode

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
    teams_dir = Unicode("", config=True, help="Where Funathon teams' shared folders are ('' : none).")
    team_prefix = Unicode("equipe-", config=True, help="Groups whose name starts with it are Funathon teams.")
    container_uid = Integer(1000, config=True, help="The user the images run as (owner of team folders).")
    container_gid = Integer(100, config=True)

    async def start(self):
        await asyncio.to_thread(self.mount_team_folders)
        return await super().start()

    def mount_team_folders(self) -> None:
        """The learner's teams' folders, and no other, among the container's volumes (Keycloak's groups at
        each start: a learner who changed team gets the new folder, not the old one)."""
        if not self.teams_dir:
            return
        teams_dir = Path(self.teams_dir)
        volumes = {k: v for k, v in self.volumes.items() if Path(k).parent != teams_dir}
        for group in sorted(g.name for g in self.user.groups if g.name.startswith(self.team_prefix)):
            if not TEAM_NAME.fullmatch(group):
                self.log.warning("team %r: not a safe folder name, no shared folder mounted", group)
                continue
            volumes[str(team_folder(teams_dir, group, self.container_uid, self.container_gid))] = f"{HOME}/{group}"
        self.volumes = volumes


TEAM_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,99}")


def team_folder(teams_dir: Path, team: str, uid: int, gid: int) -> Path:
    """`teams_dir/<team>`, writable by the containers' user; other teams cannot list `teams_dir` (0711).

    As root, the folder is the containers' user's (uid 1000 in the images), mode 2770. A rootless
    engine maps container uids to the host user's subordinate ones: the folder is then 0777 inside a
    0711 parent (only its own mount makes it reachable from a container)."""
    teams_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(teams_dir, 0o711)
    folder = teams_dir / team
    if folder.is_symlink():
        raise RuntimeError(f"{folder} is a symbolic link; refusing to mount it as team {team}'s folder")
    folder.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        os.chown(folder, uid, gid)
        os.chmod(folder, 0o2770)
    else:
        os.chmod(folder, 0o777)
    return folder


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
    c.QueuedDockerSpawner.teams_dir = str(settings.teams_dir)
    c.QueuedDockerSpawner.team_prefix = settings.challenges.team_prefix
    c.QueuedDockerSpawner.container_uid, c.QueuedDockerSpawner.container_gid = (settings.kubernetes.uid,
                                                                                settings.kubernetes.gid)
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
