"""Local backend: one process per learner on this machine, no container engine needed.

Each learner has a home folder in the data folder; the released course material is synced
into it at every start (new files copied, untouched files updated, the learner's edits kept).
When the platform runs as root (a real class), each learner is their own Unix account
(`accounts.py`): their server, kernels and the material sync run as that account. Under
`autoformation up` as root the hub itself is unprivileged: those steps go through the root helper
(`helper.py`) that `up` starts; a hub run as root by other means does them itself.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner, set_user_setuid
from jupyterhub.utils import random_port
from traitlets import Bool, Integer, List, Unicode

from .. import material
from ..courses import workcopy
from ..settings import PROJECT_ROOT
from . import accounts, helper
from .admission import START_TIMEOUT_WITH_QUEUE, QueuedStarts

JUPYTER_CONFIG = PROJECT_ROOT / "hub_config" / "jupyter"
# Learners' servers only: nbgrader's trainer tools (menu, sidebar, formgrader...) off.
JUPYTER_LEARNER_CONFIG = PROJECT_ROOT / "hub_config" / "jupyter-learner"


class HelperSpawner(SimpleLocalProcessSpawner):
    """Local processes started, and signalled, by the root helper when the hub is not root."""

    helper_socket = Unicode("", config=True, help="The root helper's socket, when the hub is not root ('': none).")

    async def start(self):
        if not self.helper_socket:
            return await super().start()
        if self.port == 0:
            self.port = random_port()
        reply = await helper.call(self.helper_socket, {"action": "spawn", "user": self.user.name,
                                                        "args": self.get_args(), "env": self.get_env()})
        self.pid = reply["pid"]
        return (self.ip or "127.0.0.1", self.port)

    async def _signal(self, sig):
        if not self.helper_socket:
            return await super()._signal(sig)
        reply = await helper.call(self.helper_socket, {"action": "signal", "user": self.user.name, "pid": self.pid,
                                                        "signal": int(sig)})
        return reply["alive"]


class LocalLearnerSpawner(QueuedStarts, HelperSpawner):
    release_dir = Unicode(config=True, help="Released course material to sync into the learner's home.")
    courses_dir = Unicode("", config=True, help="Course sources: trainers get a working copy in ~/sources.")
    staff_groups = List(Unicode(), config=True, help="Groups whose servers keep nbgrader's trainer tools.")
    teams_dir = Unicode(config=True, help="Where Funathon teams' shared folders are.")
    team_prefix = Unicode("equipe-", config=True, help="Groups whose name starts with it are Funathon teams.")
    accounts = Bool(False, config=True, help="One Unix account per learner (needs root), else all as the hub's user.")
    niceness = Integer(10, config=True, help="Learners' servers yield the CPU to the hub, its proxy and services.")

    @property
    def system_user(self) -> str:
        return accounts.system_name(self.user.name)

    @property
    def staff(self) -> bool:
        return bool({g.name for g in self.user.groups} & set(self.staff_groups))

    async def prepare(self) -> None:
        teams = sorted(g.name for g in self.user.groups if g.name.startswith(self.team_prefix))
        if self.helper_socket:
            done = await helper.call(self.helper_socket, {"action": "prepare", "user": self.user.name, "teams": teams,
                                                          "trainer": self.staff})
            self.log.info("material for %s: %s", self.user.name, done["material"])
            return
        if self.accounts:
            await asyncio.to_thread(accounts.ensure, self.user.name, Path(self.home_dir))
            await asyncio.to_thread(self._join_teams, teams)
            await self._sync_as_learner()
            await self._link_teams_as_learner(teams)
        else:
            report = await asyncio.to_thread(material.sync, self.release_dir, self.home_dir)
            self.log.info("material for %s: %d new, %d updated, %d merged, %d kept", self.user.name,
                          len(report.copied), len(report.updated), len(report.merged), len(report.kept))
        if self.staff and self.courses_dir:
            await self._receive_sources()

    async def _receive_sources(self) -> None:
        """Trainers: a working copy of the course sources in ~/sources (workcopy.py), written as them."""
        data = await asyncio.to_thread(workcopy.pack, Path(self.courses_dir))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "autoformation.courses.workcopy", "receive",
            str(Path(self.home_dir) / workcopy.SOURCES),
            preexec_fn=set_user_setuid(self.system_user) if self.accounts else None,
            env={"PATH": "/usr/bin:/bin", "HOME": self.home_dir},
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate(data)
        self.log.info("sources for %s: %s", self.user.name, out.decode(errors="replace").strip()[-300:])

    def _join_teams(self, teams: list[str]) -> None:
        groups = [accounts.ensure_team_folder(team, Path(self.teams_dir))[1] for team in teams]
        accounts.set_teams(self.user.name, groups)

    async def _link_teams_as_learner(self, teams: list[str]) -> None:
        """`~/<team>`: the team's shared folder, linked by the learner (root never writes in a home)."""
        for team in teams:
            link = await asyncio.create_subprocess_exec(
                "ln", "-sfn", str(Path(self.teams_dir) / team), str(Path(self.home_dir) / team),
                preexec_fn=set_user_setuid(self.system_user), env={"PATH": "/usr/bin:/bin"},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
            await link.wait()

    def exited(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    async def _sync_as_learner(self) -> None:
        """The hub is root: it must not write into a folder a learner controls (a planted link would
        send root's writes anywhere), so the sync runs as the learner."""
        sync = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "autoformation.material", self.release_dir, self.home_dir,
            preexec_fn=set_user_setuid(self.system_user), env={"PATH": "/usr/bin:/bin", "HOME": self.home_dir},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await sync.communicate()
        self.log.info("material for %s: %s", self.user.name, out.decode(errors="replace").strip()[-500:])
        if sync.returncode:
            raise RuntimeError(f"the course material could not be copied into {self.user.name}'s home")

    def make_preexec_fn(self, name):
        # uid, gid, groups of the learner and cwd their home; or just the home when not root.
        become = set_user_setuid(self.system_user) if self.accounts else super().make_preexec_fn(name)
        niceness = self.niceness

        def preexec():
            os.nice(niceness)  # before dropping root: a learner cannot lower it back
            os.umask(0o077)  # a learner's files (in /tmp too) are theirs alone
            become()

        return preexec

    def user_env(self, env):
        env = super().user_env(env)
        if self.accounts:
            env["USER"] = env["LOGNAME"] = self.system_user
        # Our config (Soumettre, announcements off) ahead of the user's own; learners lose nbgrader's tools.
        staff = {g.name for g in self.user.groups} & set(self.staff_groups)
        ours = [str(JUPYTER_CONFIG)] if staff else [str(JUPYTER_LEARNER_CONFIG), str(JUPYTER_CONFIG)]
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (*ours, env.get("JUPYTER_CONFIG_PATH", "")) if p)
        return env


def configure_local(c, settings, courses) -> None:
    settings.homes_dir.mkdir(parents=True, exist_ok=True)
    c.JupyterHub.spawner_class = LocalLearnerSpawner
    c.LocalLearnerSpawner.home_dir_template = str(settings.homes_dir / "{username}")
    c.LocalLearnerSpawner.release_dir = str(settings.release_dir)
    c.LocalLearnerSpawner.courses_dir = str(settings.courses_dir)
    c.LocalLearnerSpawner.teams_dir = str(settings.teams_dir)
    c.LocalLearnerSpawner.team_prefix = settings.challenges.team_prefix
    c.LocalLearnerSpawner.staff_groups = [settings.groups.trainers, settings.groups.admins]
    # The single-user server of this very environment, whatever PATH the hub was started with.
    c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    # Learners' accounts: the hub is root, or `up` (root) started the helper and runs the hub unprivileged.
    c.HelperSpawner.helper_socket = os.environ.get(helper.HELPER_ENV, "")
    c.LocalLearnerSpawner.accounts = accounts.available() or bool(os.environ.get(helper.HELPER_ENV))
    # One start per core measured best (benchmarks/spawn_storm.py: 2 beat 4 and 6 on 2 cores).
    c.LocalLearnerSpawner.concurrent_starts = settings.spawner.concurrent_starts or os.cpu_count() or 2
    c.LocalLearnerSpawner.start_timeout = max(settings.spawner.start_timeout, START_TIMEOUT_WITH_QUEUE)
    c.LocalLearnerSpawner.niceness = settings.spawner.niceness
    # No terminal input, whoever started the hub: a server with a tty asks for confirmation on SIGINT (stop).
    c.LocalLearnerSpawner.popen_kwargs = {"stdin": subprocess.DEVNULL}
    if not (accounts.available() or os.environ.get(helper.HELPER_ENV)):
        print("warning: not root, so every learner's server runs as this user and can read the others' work and "
              "the platform's data; for a class, start the platform as root (one Unix account per learner)",
              file=sys.stderr)
