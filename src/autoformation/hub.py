"""The platform's JupyterHub configuration: settings mapped onto traitlets, in one place.

`hub_config/jupyterhub_config.py` calls `configure(c)`; on Kubernetes the Zero to JupyterHub
chart calls `configure(c, standalone=False)` from `hub.extraConfig` (the chart then owns the
network, database and proxy, and its own idle culler).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from . import auth
from .catalogue import Course, load_catalogue
from .settings import PROJECT_ROOT, Settings, SettingsError, load
from .spawners import configure_spawner

TEMPLATES = Path(__file__).parent / "templates"
PROXY = PROJECT_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
GRADING = "grading"
TRAINERS = "formateur"


def configure(c, settings: Settings | None = None, standalone: bool = True) -> Settings:
    settings = settings or load()
    courses = load_catalogue(settings.courses_dir)
    services, roles = [], []
    if standalone:
        _configure_standalone(c, settings, services, roles)
    auth.configure_auth(c, settings)
    _configure_grading(c, settings, services, roles)  # first: the spawners extend its environment
    configure_spawner(c, settings, courses)
    _configure_trainers(c, settings, services, roles)
    services.append({  # the companion book: static pages, no personal data, no sign-in needed
        "name": "book",
        "url": f"http://127.0.0.1:{settings.book.port}",
        "command": [sys.executable, "-m", "autoformation.book", "serve"],
        "environment": {"AUTOFORMATION_CONFIG": str(Path(settings.source).resolve())},
        **_as_platform_account(settings),
    })
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    # Signing in lands on the catalogue: a server starts only from a course's "Commencer"/"Reprendre".
    c.JupyterHub.redirect_to_server = False
    c.JupyterHub.template_vars = {
        "courses": courses,
        "catalogue": functools.partial(_catalogue, settings, courses),
        "grading_url": f"/services/{GRADING}/",
        "trainers_url": f"/services/{TRAINERS}/",
        "book_url": "/services/book/",
        "trainer_groups": [settings.groups.trainers, settings.groups.admins],
    }
    return settings


@functools.cache
def _store(url: str):
    from .grading.store import Store

    return Store(url)


def _catalogue(settings: Settings, courses: list[Course], user) -> list:
    """The home page's course cards, with this learner's progress (rendered by the hub)."""
    from .progress import learner_progress

    if user is None:
        return []
    return learner_progress(_store(settings.grading_db_url()), courses, user.name)


def _record_material(settings: Settings, spawner) -> None:
    """Remember which release of each course this learner's environment gets (trainers see it)."""
    if settings.spawner.backend == "local":
        versions = {}
        for info in settings.release_dir.glob("*/release.json"):
            versions[info.parent.name] = str(json.loads(info.read_text()).get("version", ""))
    else:  # container images carry the release of their course
        course = (spawner.user_options or {}).get("profile") or ""
        versions = {course: settings.courses.version} if course else {}
    _store(settings.grading_db_url()).record_material(spawner.user.name, versions)


def _grading_host(settings: Settings) -> str:
    """Where learners' servers reach the grading service: loopback, except from docker containers
    (whose loopback is their own): this machine's address, the one they reach the hub at."""
    if settings.spawner.backend == "docker":
        from .spawners.docker import host_address

        return host_address()
    return "127.0.0.1"


def _configure_grading(c, settings: Settings, services: list, roles: list) -> None:
    host = _grading_host(settings)
    services.append({
        "name": GRADING,
        "url": f"http://{host}:{settings.grading.port}",  # not loopback: the service binds beyond it
        "command": [sys.executable, "-m", "autoformation.grading.service"],
        "environment": {"AUTOFORMATION_CONFIG": str(Path(settings.source).resolve())},
        "oauth_no_confirm": True,
        "display": False,
    })
    roles += [
        # Every signed-in user (only the allowed groups get in) may use the grading service, as themselves.
        {"name": "user", "scopes": ["self", f"access:services!service={GRADING}"]},
        # Never `access:servers`: notebooks come from the learners (their own token), the service reads no server.
        {"name": GRADING, "services": [GRADING], "scopes": ["read:users:name", "read:users:groups"]},
    ]
    # The learner's server token can submit to the grading service (`autoformation submit`).
    c.Spawner.server_token_scopes = [
        "users:activity!user", "access:servers!server", f"access:services!service={GRADING}",
    ]
    c.Spawner.pre_spawn_hook = functools.partial(_record_material, settings)
    c.Spawner.environment = {
        "AUTOFORMATION_GRADING_URL": f"http://{host}:{settings.grading.port}/services/{GRADING}/",
    }


def _as_platform_account(settings: Settings) -> dict:
    """Services that need no root run as the `autoformation` system account (local backend as root)."""
    from .spawners import accounts

    if settings.spawner.backend == "local" and accounts.available():
        return {"user": accounts.PLATFORM_USER}
    return {}


def _configure_trainers(c, settings: Settings, services: list, roles: list) -> None:
    services.append({
        "name": TRAINERS,
        "url": f"http://127.0.0.1:{settings.trainers.port}",
        "command": [sys.executable, "-m", "autoformation.trainers.service"],
        "environment": {"AUTOFORMATION_CONFIG": str(Path(settings.source).resolve())},
        "oauth_no_confirm": True,
        "display": False,
        # Root, for now: it writes nbgrader's gradebooks and the grading database beside the grading service.
    })
    roles += [
        # Only trainers and admins may open the trainers' service: everyone else gets a 403 from the hub.
        {
            "name": "trainer",
            "groups": [settings.groups.trainers, settings.groups.admins],
            "scopes": [f"access:services!service={TRAINERS}"],
        },
        {"name": TRAINERS, "services": [TRAINERS], "scopes": ["list:users", "read:users", "read:groups"]},
    ]


def _configure_standalone(c, settings: Settings, services: list, roles: list) -> None:
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    platform = settings.platform
    c.JupyterHub.bind_url = f"http://{platform.ip}:{platform.port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = platform.hub_port
    c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(data / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{platform.proxy_api_port}"
    if not PROXY.exists():
        raise SettingsError(f"configurable-http-proxy not found at {PROXY}: run `make up` (it runs npm install)")
    c.ConfigurableHTTPProxy.command = [str(PROXY)]
    if (user := _as_platform_account(settings).get("user")):  # the proxy needs no root either
        c.ConfigurableHTTPProxy.command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
                                           "--inh-caps=-all", "--no-new-privs", str(PROXY)]
    c.ConfigurableHTTPProxy.pid_file = str(data / "proxy.pid")
    if settings.culler.enabled:
        services.append({
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings.culler.timeout}"],
            **_as_platform_account(settings),
        })
        roles.append({
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        })
