"""Local backend: one process per learner on this machine, no container engine needed.

Each learner has a home folder in the data folder; the released course material is synced
into it at every start (new files copied, untouched files updated, the learner's edits kept).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import List, Unicode

from .. import material
from ..settings import PROJECT_ROOT

JUPYTER_CONFIG = PROJECT_ROOT / "hub_config" / "jupyter"
# Learners' servers only: nbgrader's trainer tools (menu, sidebar, formgrader...) off.
JUPYTER_LEARNER_CONFIG = PROJECT_ROOT / "hub_config" / "jupyter-learner"


class LocalLearnerSpawner(SimpleLocalProcessSpawner):
    release_dir = Unicode(config=True, help="Released course material to sync into the learner's home.")
    staff_groups = List(Unicode(), config=True, help="Groups whose servers keep nbgrader's trainer tools.")

    async def start(self):
        report = await asyncio.to_thread(material.sync, self.release_dir, self.home_dir)
        self.log.info(
            "material for %s: %d new, %d updated, %d kept",
            self.user.name, len(report.copied), len(report.updated), len(report.kept),
        )
        return await super().start()

    def user_env(self, env):
        env = super().user_env(env)
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
    c.LocalLearnerSpawner.staff_groups = [settings.groups.trainers, settings.groups.admins]
    # The single-user server of this very environment, whatever PATH the hub was started with.
    c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
