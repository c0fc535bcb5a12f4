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


# Settings that are one Spawner trait each, set as they are (z2jh's `set_config_if_not_none` table).
SPAWNER_TRAITS = {  # spawner.<setting>: Spawner.<trait>
    "default_url": "default_url",
    "start_timeout": "start_timeout",
    "cpu_limit": "cpu_limit",
    "cpu_guarantee": "cpu_guarantee",
    "mem_limit": "mem_limit",
    "mem_guarantee": "mem_guarantee",
}


def configure_spawner(c, settings: Settings, courses: list[Course]) -> None:
    for setting, trait in SPAWNER_TRAITS.items():
        setattr(c.Spawner, trait, getattr(settings.spawner, setting))
    c.Spawner.http_timeout = max(60, settings.spawner.start_timeout // 2)
    module, function = BACKENDS[settings.spawner.backend]
    getattr(importlib.import_module(module), function)(c, settings, courses)
