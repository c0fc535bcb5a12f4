"""Which sandbox grades: chosen by the settings (`grading.sandbox`, `auto` following the learners' backend)."""

from __future__ import annotations

import os
import shlex

from ..catalogue import image_name
from ..settings import Settings
from .cluster import KubernetesSandbox
from .executor import EXERCISE, ContainerSandbox, LocalSandbox


def sandbox_for(settings: Settings, image: str, exercise: str | None = None):
    """The sandbox learner code (or a challenge's scorer) runs in, for a learner image ("ml"): bubblewrap
    here, a container of the image, or a pod of it. In a pod, the exercise's files are the image's release
    at `exercise`, or, when None, the staged files themselves (a challenge's, which no image may hold)."""
    kind, version = settings.grading_sandbox, settings.courses.version
    if kind == "container":
        return ContainerSandbox(shlex.split(settings.grading.engine), image_name("", image, version), dict(os.environ))
    if kind == "kubernetes":
        return KubernetesSandbox(image_name(settings.kubernetes.image_registry, image, version),
                                 settings.kubernetes.namespace, exercise or EXERCISE,
                                 {k: v for k, v in os.environ.items() if k.startswith(("KUBE", "HOME"))},
                                 ship_exercise=exercise is None)
    return LocalSandbox()
