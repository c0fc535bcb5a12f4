"""The platform's JupyterHub configuration: settings mapped onto traitlets, in one place.

`hub_config/jupyterhub_config.py` calls `configure(c)`; on Kubernetes the Zero to JupyterHub
chart calls `configure(c, standalone=False)` from `hub.extraConfig` (the chart then owns the
network, database and proxy, and its own idle culler).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import auth
from .catalogue import Course, load_catalogue
from .challenges import load_challenges
from .errors import StartupError
from .grading.client import GradingClient
from .names import (
    CONFIG_ENV,
    GRADING_SERVICE,
    GRADING_TOKEN_ENV,
    GRADING_URL_ENV,
    HUB_CLIENT,
    HUB_SCOPE,
    HUB_STATE_ENV,
    TRAINER_SCOPE,
)
from .settings import PROJECT_ROOT, Settings, load
from .spawners import configure_spawner

TEMPLATES = Path(__file__).parent / "templates"
PROXY = PROJECT_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
GRADING = GRADING_SERVICE


def configure(c, settings: Settings | None = None, standalone: bool = True) -> Settings:
    settings = settings or load()
    courses = load_catalogue(settings.courses_dir)
    challenges = load_challenges(settings.challenges_dir)
    services, roles = [], []
    if standalone:
        _configure_standalone(c, settings, services, roles)
    auth.configure_auth(c, settings)
    host = _services_host(settings, standalone)
    grading = _configure_grading(c, settings, host, services, roles)  # first: the spawners extend its environment
    configure_spawner(c, settings, courses)
    services.append({  # the companion book: static pages, no personal data, no sign-in needed
        "name": "book",
        "url": f"http://{host}:{settings.book.port}",
        "command": [sys.executable, "-m", "autoformation.book", "serve"],
        "environment": {CONFIG_ENV: str(Path(settings.source).resolve())},
        **_as_platform_account(settings),
    })
    # Appended to what is already configured (the Helm chart's idle culler...), ours replacing same names.
    _append_named(c.JupyterHub, "services", services)
    _append_named(c.JupyterHub, "load_roles", roles)
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    # Signing in lands on the catalogue: a server starts only from a course's "Commencer"/"Reprendre".
    c.JupyterHub.redirect_to_server = False
    c.JupyterHub.template_vars = {
        "catalogue": functools.partial(_catalogue, grading, courses, challenges),
        "grading_url": f"/services/{GRADING}/",
        "trainers_url": f"/services/{GRADING}/trainers/",
        "book_url": "/services/book/",
        "challenges": challenges,
        "trainer_groups": [settings.groups.trainers, settings.groups.admins],
    }
    return settings


def _append_named(section, trait: str, entries: list[dict]) -> None:
    existing = section[trait] if trait in section else []
    names = {entry["name"] for entry in entries}
    section[trait] = [entry for entry in existing if entry["name"] not in names] + entries


@dataclass
class CourseCard:
    """A course on the catalogue, with where this learner stands (from the grading service)."""

    course: Course
    status: str = "unknown"  # the grading service did not answer: the card still opens the course
    percent: int = 0
    label: str = "Progression indisponible pour le moment"
    levels: list = field(default_factory=list)  # (level, exercises passed, exercises), as on the progress page


def _catalogue(grading: GradingClient, courses: list[Course], challenges: list, user):
    """The home page's course cards: the template calls this and Jinja (async in the hub) awaits it.
    The same answer tells when each challenge closes (the organisers may close one early)."""
    from datetime import datetime

    async def cards() -> list[CourseCard]:
        if user is None:
            return []
        found = await grading.progress(user.name) or {}
        for challenge in challenges:
            closes_at = (found.get("challenges") or {}).get(challenge.id, {}).get("closes_at")
            if closes_at and datetime.fromisoformat(closes_at) < challenge.closes_at():
                challenge.closed_at = datetime.fromisoformat(closes_at)
        known = {c["course"]: c for c in found.get("courses", [])}
        return [
            CourseCard(course, known[course.id]["status"], known[course.id]["percent"], known[course.id]["label"],
                       [(lv["level"], lv["passed"], lv["total"]) for lv in known[course.id].get("levels", [])])
            if course.id in known else CourseCard(course)
            for course in courses
        ]

    return cards


async def _record_material(settings: Settings, grading: GradingClient, spawner) -> None:
    """Tell the grading service which release of each course this learner's environment gets (trainers
    see it); a service that does not answer delays no start."""
    if settings.spawner.backend == "local":
        versions = {}
        for info in settings.release_dir.glob("*/release.json"):
            versions[info.parent.name] = str(json.loads(info.read_text()).get("version", ""))
    else:  # container images carry the release of their course
        course = (spawner.user_options or {}).get("profile") or ""
        versions = {course: settings.courses.version} if course else {}
    if versions and not await grading.record_material(spawner.user.name, versions):
        spawner.log.warning("the grading service did not record %s's course material", spawner.user.name)


def _services_host(settings: Settings, standalone: bool) -> str:
    """Where the proxy and learners' servers reach the platform's services: loopback on one machine,
    except from docker containers (whose loopback is their own): this machine's address, the one they
    reach the hub at; in the chart, the hub pod's Service (`hub`, with the ports of `hub.service.extraPorts`)."""
    if settings.spawner.backend == "kubernetes" and not standalone:
        return "hub"
    if settings.spawner.backend == "docker":
        from .spawners.docker import host_address

        return host_address()
    return "127.0.0.1"


def _configure_grading(c, settings: Settings, host: str, services: list, roles: list) -> GradingClient:
    url = f"http://{host}:{settings.grading.port}/services/{GRADING}/"
    environment = {CONFIG_ENV: str(Path(settings.source).resolve())}
    if settings.grading_sandbox == "kubernetes":
        # Grading pods are made with the hub pod's service account: the service needs the API's address.
        environment |= {k: v for k, v in os.environ.items() if k.startswith("KUBERNETES_SERVICE_")}
    if settings.grading.db_url.startswith("postgresql"):
        # libpq's own variables (PGPASSWORD from a Secret on Kubernetes): never in the settings file.
        environment |= {k: v for k, v in os.environ.items() if k.startswith("PG")}
    service = {"command": [sys.executable, "-m", "autoformation.grading.service"], "environment": environment}
    if os.environ.get(GRADING_TOKEN_ENV):
        # `up` as root started it (it needs root for its sandboxes; the hub does not have it): external.
        service = {"api_token": os.environ[GRADING_TOKEN_ENV]}  # its OAuth client: JupyterHub's defaults
    services.append({
        "name": GRADING,
        "url": f"http://{host}:{settings.grading.port}",
        **service,
        "oauth_no_confirm": True,
        # Its tokens carry the trainers' scope for those who hold it: its trainers' pages check it.
        "oauth_client_allowed_scopes": [TRAINER_SCOPE],
        "display": False,
    })
    c.JupyterHub.custom_scopes = {
        TRAINER_SCOPE: {"description": "Follow learners' work, grade their free-text answers, export the grades."},
        HUB_SCOPE: {"description": "Read every learner's progress, record the course material they were given."},
    }
    roles += [
        # Every signed-in user (only the allowed groups get in) may use the grading service, as themselves.
        {"name": "user", "scopes": ["self", f"access:services!service={GRADING}"]},
        # Only trainers and admins hold the trainers' scope: everyone else gets a 403 on those pages.
        {"name": "trainer", "groups": [settings.groups.trainers, settings.groups.admins], "scopes": [TRAINER_SCOPE]},
        # Never `access:servers`: notebooks come from the learners (their own token), the service reads no server.
        # Users and groups: who follows whom on the trainers' pages.
        {"name": GRADING, "services": [GRADING], "scopes": ["list:users", "read:users", "read:groups"]},
    ]
    # The learner's server token can submit to the grading service (`autoformation submit`).
    c.Spawner.server_token_scopes = [
        "users:activity!user", "access:servers!server", f"access:services!service={GRADING}",
    ]
    # The hub's own calls (catalogue, spawn hook), with a token made at each start that only the hub holds.
    token = secrets.token_hex(32)
    services.append({"name": HUB_CLIENT, "api_token": token, "display": False})
    roles.append({"name": HUB_CLIENT, "services": [HUB_CLIENT],
                  "scopes": [f"access:services!service={GRADING}", HUB_SCOPE]})
    grading = GradingClient(url, token)
    c.Spawner.pre_spawn_hook = functools.partial(_record_material, settings, grading)
    c.Spawner.environment = {GRADING_URL_ENV: url}
    return grading


def _as_platform_account(settings: Settings) -> dict:
    """Services that need no root run as the `autoformation` system account (local backend as root)."""
    from .spawners import accounts

    if settings.spawner.backend == "local" and accounts.available():
        return {"user": accounts.PLATFORM_USER}
    return {}


def _configure_standalone(c, settings: Settings, services: list, roles: list) -> None:
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    state = Path(os.environ.get(HUB_STATE_ENV) or data)  # the hub's own files (`up` as root: DATA/hub, its own)
    platform = settings.platform
    c.JupyterHub.bind_url = f"http://{platform.ip}:{platform.port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = platform.hub_port
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{platform.proxy_api_port}"
    if not PROXY.exists():
        raise StartupError(f"configurable-http-proxy not found at {PROXY}: run `make up` (it runs npm install)")
    c.ConfigurableHTTPProxy.command = [str(PROXY)]
    if (user := _as_platform_account(settings).get("user")):  # the proxy needs no root either
        c.ConfigurableHTTPProxy.command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
                                           "--inh-caps=-all", "--no-new-privs", str(PROXY)]
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
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
