"""Where learners' servers run: one backend per module, chosen by `spawner.backend`.

- local: a process per learner on this machine (the embedded default)
- docker: a container per learner through DockerSpawner (Docker or Podman)
- kubernetes: a pod per learner through KubeSpawner (production)
"""

from __future__ import annotations

import importlib

from ..catalogue import Course
from ..settings import Settings

BACKENDS = {
    "local": ("autoformation.spawners.local", "configure_local"),
    "docker": ("autoformation.spawners.docker", "configure_docker"),
    "kubernetes": ("autoformation.spawners.kubernetes", "configure_kubernetes"),
}


def configure_spawner(c, settings: Settings, courses: list[Course]) -> None:
    c.Spawner.default_url = settings.spawner.default_url
    c.Spawner.start_timeout = settings.spawner.start_timeout
    c.Spawner.http_timeout = max(60, settings.spawner.start_timeout // 2)
    c.Spawner.cpu_limit = settings.spawner.cpu_limit
    c.Spawner.cpu_guarantee = settings.spawner.cpu_guarantee
    c.Spawner.mem_limit = settings.spawner.mem_limit
    c.Spawner.mem_guarantee = settings.spawner.mem_guarantee
    module, function = BACKENDS[settings.spawner.backend]
    getattr(importlib.import_module(module), function)(c, settings, courses)
