"""Kubernetes backend: one pod per learner through KubeSpawner (production, Zero to JupyterHub).

Each course is a KubeSpawner profile running the course's image. Every learner has one
PersistentVolumeClaim mounted as their home, whatever the course: their files survive server
stops, idle culling and course changes. Before the server starts, an init container from the
same image brings the released course material (baked into the image at RELEASE_DIR) into the
home without overwriting the learner's edits (`python -m autoformation.material`).

On Zero to JupyterHub this runs from `hub.extraConfig`, after the chart's own configuration
has set `c.KubeSpawner` from its `singleuser` values: everything the platform decides is set
here on `c.KubeSpawner` (not `c.Spawner`) so that it wins over the chart's defaults.
"""

from __future__ import annotations

from jupyterhub.traitlets import ByteSpecification

from ..catalogue import Course
from ..names import GRADING_SERVICE, GRADING_URL_ENV
from ..settings import Settings, SettingsError

HOME = "/home/jovyan"  # the learner's home in the Jupyter images
RELEASE_DIR = "/opt/autoformation/release"  # released material inside every course image
HOME_VOLUME = "home"
PVC_NAME_TEMPLATE = "claim-{user_server}"  # one claim per learner (and per named server)
MATERIAL_COMMAND = ["python", "-m", "autoformation.material", RELEASE_DIR, HOME]
COURSE_ENV = "AUTOFORMATION_COURSE"
# Learner pods reach hub services through the chart's proxy Service (z2jh names it proxy-public):
# the hub pod's loopback, which the local backend uses, is not theirs.
PROXY_URL = "http://proxy-public"


def container_security_context() -> dict:
    """What every container of a learner pod gets: the "restricted" Pod Security Standard."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _resources(settings: Settings) -> dict:
    """The server container's resources, as KubeSpawner writes them (memory in bytes, K/M/G binary)."""
    spawner = settings.spawner
    memory = ByteSpecification()
    return {
        "requests": {"cpu": spawner.cpu_guarantee, "memory": memory.validate(None, spawner.mem_guarantee)},
        "limits": {"cpu": spawner.cpu_limit, "memory": memory.validate(None, spawner.mem_limit)},
    }


def material_container(image: str, settings: Settings) -> dict:
    """Init container copying the course's released material into the learner's home."""
    return {
        "name": "material",
        "image": image,
        "command": list(MATERIAL_COMMAND),
        "volumeMounts": [{"name": HOME_VOLUME, "mountPath": HOME}],
        "securityContext": {
            **container_security_context(),
            "runAsUser": settings.kubernetes.uid,
            "runAsGroup": settings.kubernetes.gid,
        },
        # Same as the server's: an init container's requests count only up to the pod's own.
        "resources": _resources(settings),
    }


def grading_url() -> str:
    return f"{PROXY_URL}/services/{GRADING_SERVICE}/"


def course_profile(course: Course, settings: Settings, default: bool = False) -> dict:
    image = course.image_name(settings.kubernetes.image_registry, settings.courses.version)
    return {
        "display_name": course.title,
        "description": course.abstract.get("fr") or next(iter(course.abstract.values()), ""),
        "slug": course.id,
        "default": default,
        "kubespawner_override": {
            "image": image,
            # A dict override is merged into the configured environment by KubeSpawner.
            "environment": {COURSE_ENV: course.id, GRADING_URL_ENV: grading_url()},
            "init_containers": [material_container(image, settings)],
        },
    }


def configure_kubernetes(c, settings: Settings, courses: list[Course]) -> None:
    if not courses:
        raise SettingsError(
            f"spawner.backend is 'kubernetes' but no course was found in {settings.courses_dir} "
            "(setting 'courses.source_dir'): each course becomes a server profile, at least one is needed"
        )
    k8s, spawner = settings.kubernetes, settings.spawner
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    ks = c.KubeSpawner
    ks.namespace = k8s.namespace

    profiles = [course_profile(course, settings, default=(i == 0)) for i, course in enumerate(courses)]
    ks.profile_list = profiles
    # Before a profile is chosen (e.g. a start through the REST API), the default course's values.
    ks.image = profiles[0]["kubespawner_override"]["image"]
    ks.init_containers = profiles[0]["kubespawner_override"]["init_containers"]

    # The single-user server itself, whatever the image's own CMD is (as the chart's singleuser.cmd).
    ks.cmd = ["jupyterhub-singleuser"]
    ks.cpu_guarantee = spawner.cpu_guarantee
    ks.cpu_limit = spawner.cpu_limit
    ks.mem_guarantee = spawner.mem_guarantee
    ks.mem_limit = spawner.mem_limit
    ks.default_url = spawner.default_url
    ks.start_timeout = spawner.start_timeout

    # The learner's home: one claim per learner, kept when the server stops or is culled,
    # and even when the user is deleted (removing learners' work is a deliberate admin step).
    ks.storage_pvc_ensure = True
    ks.pvc_name_template = PVC_NAME_TEMPLATE
    ks.storage_capacity = k8s.storage_capacity
    ks.storage_access_modes = ["ReadWriteOnce"]
    if k8s.storage_class:
        ks.storage_class = k8s.storage_class
    ks.delete_pvc = False
    ks.volumes = [{"name": HOME_VOLUME, "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
    ks.volume_mounts = [{"name": HOME_VOLUME, "mountPath": HOME}]
    ks.working_dir = HOME

    ks.uid = k8s.uid
    ks.gid = k8s.gid
    ks.fs_gid = k8s.gid
    ks.allow_privilege_escalation = False
    ks.privileged = False
    ks.container_security_context = container_security_context()
    ks.pod_security_context = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
