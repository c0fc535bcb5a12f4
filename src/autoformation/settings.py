"""The platform's settings: one YAML file, read and checked in one place.

Every setting has a default here; `hub_config/settings.yaml` (or the file named by
``AUTOFORMATION_CONFIG`` / ``--config``) overrides them. A wrong or unknown key stops
start-up with a message naming it. Secrets never live in the file: they come from the
environment (see `Identity.client_secret`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

#: Root of the project checkout (where hub_config/, courses/, book/ live).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "hub_config" / "settings.yaml"
SECRET_ENV = "AUTOFORMATION_OIDC_CLIENT_SECRET"


class SettingsError(ValueError):
    """A setting is missing, unknown or has a wrong value; the message names it."""


@dataclass
class Platform:
    ip: str = "127.0.0.1"
    port: int = 8000  # where people open the platform
    public_url: str = ""  # defaults to http://{ip}:{port}
    hub_port: int = 8081  # the hub's internal API
    proxy_api_port: int = 8001
    data_dir: str = "data"  # hub database, cookie secret, learner homes, releases

    def url(self) -> str:
        return (self.public_url or f"http://{self.ip}:{self.port}").rstrip("/")


@dataclass
class Identity:
    provider: str = "embedded"  # embedded | keycloak
    url: str = ""  # Keycloak's base URL (provider: keycloak)
    realm: str = "autoformation"
    client_id: str = "jupyterhub"
    realm_file: str = "hub_config/keycloak/realm-autoformation.json"
    embedded_port: int = 8180  # where the embedded provider listens (provider: embedded)

    CHOICES = {"provider": ("embedded", "keycloak")}

    def base_url(self, platform: Platform) -> str:
        if self.provider == "embedded":
            return f"http://{platform.ip}:{self.embedded_port}"
        return self.url.rstrip("/")

    def issuer(self, platform: Platform) -> str:
        return f"{self.base_url(platform)}/realms/{self.realm}"


@dataclass
class Groups:
    """Keycloak group names (as emitted in the `groups` claim) for each kind of user."""

    learners: str = "learners"
    trainers: str = "trainers"
    admins: str = "admins"


@dataclass
class Spawner:
    backend: str = "local"  # local | kubernetes | docker
    cpu_guarantee: float = 0.5
    cpu_limit: float = 2.0
    mem_guarantee: str = "512M"
    mem_limit: str = "2G"
    start_timeout: int = 120  # after its turn in the start queue (local backend)
    default_url: str = "/lab"
    concurrent_starts: int = 0  # local: servers starting at once (0: one per core), the others queue in order
    niceness: int = 10  # local: learners' servers (and their kernels) yield the CPU to the hub and services

    CHOICES = {"backend": ("local", "kubernetes", "docker")}
    LIMITS = {"concurrent_starts": (0, None), "niceness": (0, 19)}


@dataclass
class Kubernetes:
    namespace: str = "autoformation"
    image_registry: str = "registry.example.org/autoformation"
    storage_capacity: str = "2Gi"
    storage_class: str = ""  # empty: the cluster's default class
    uid: int = 1000
    gid: int = 100


@dataclass
class Culler:
    enabled: bool = True
    timeout: int = 3600  # seconds of inactivity before a server is stopped (data is kept)


@dataclass
class Courses:
    source_dir: str = "courses"  # nbgrader source notebooks and course.yaml files
    version: str = "2026.11"  # tag of the course images and of released material
    # Where the `s3_data` of course.yaml are read (public objects, path-style); AWS_S3_ENDPOINT wins when set.
    s3_endpoint: str = "https://minio.lab.sspcloud.fr"


@dataclass
class Grading:
    """The grading service and the sandbox learner code runs in while it is graded."""

    port: int = 8090  # the service's own port on loopback (reached through the proxy)
    db_url: str = ""  # progress and submissions; default SQLite in DATA/grading, or postgresql+psycopg2://...
    workers: int = 0  # parallel gradings; 0: one per core (more makes correct answers time out)
    cell_timeout: int = 30  # seconds per cell
    timeout: int = 300  # seconds of wall clock per notebook
    memory_mb: int = 2048  # address space of the graded kernel
    cpu_seconds: int = 120  # CPU time of the graded kernel
    max_output_kb: int = 1024  # outputs kept per cell
    # Where learner code runs while graded: `local` (bubblewrap on this machine), `container` (the
    # course's own image, started with `engine`, e.g. "docker" or "podman"), `kubernetes` (a pod of the
    # course's image per submission, in `kubernetes.namespace`), or `auto`: the one that goes with
    # `spawner.backend` (local, container, kubernetes); see SECURITY.md.
    sandbox: str = "auto"
    engine: str = "docker"

    CHOICES = {"sandbox": ("auto", "local", "container", "kubernetes")}


@dataclass
class Challenges:
    """Funathon challenges (`challenges/<id>/`) and the teams that take part (Keycloak groups)."""

    source_dir: str = "challenges"
    team_prefix: str = "equipe-"  # groups whose name starts with it are teams


@dataclass
class Trainers:
    """Which cohorts (Keycloak groups, e.g. one per session or Funathon team) each trainer follows.

    Admins see every cohort. A trainer with no entry sees no learner.
    """

    cohorts: dict[str, list[str]] = field(default_factory=dict)  # trainer name -> cohort group names


@dataclass
class Book:
    """The companion Jupyter Book, served at /services/book/."""

    port: int = 8092
    repository: str = ""  # a GitHub repository of the released material, for nbgitpuller launch buttons
    branch: str = "main"
    site_dir: str = ""  # the built HTML the book service serves; default: what `book build` makes in DATA/book


@dataclass
class Settings:
    platform: Platform = field(default_factory=Platform)
    identity: Identity = field(default_factory=Identity)
    groups: Groups = field(default_factory=Groups)
    spawner: Spawner = field(default_factory=Spawner)
    kubernetes: Kubernetes = field(default_factory=Kubernetes)
    culler: Culler = field(default_factory=Culler)
    courses: Courses = field(default_factory=Courses)
    grading: Grading = field(default_factory=Grading)
    trainers: Trainers = field(default_factory=Trainers)
    challenges: Challenges = field(default_factory=Challenges)
    book: Book = field(default_factory=Book)
    source: str = ""  # the file these settings were read from (informative)

    # Paths, resolved against the project root when relative.
    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (PROJECT_ROOT / p)

    @property
    def data_dir(self) -> Path:
        return self.path(self.platform.data_dir)

    @property
    def homes_dir(self) -> Path:
        return self.data_dir / "homes"

    @property
    def release_dir(self) -> Path:
        """Learner versions of the courses, as `autoformation courses release` writes them."""
        return self.data_dir / "release"

    @property
    def courses_dir(self) -> Path:
        return self.path(self.courses.source_dir)

    @property
    def grading_sandbox(self) -> str:
        """`grading.sandbox`; `auto` (the default) follows the learners' backend: bubblewrap on this machine
        for `local`, a container of the course's image for `docker`, a pod of it for `kubernetes`."""
        if self.grading.sandbox != "auto":
            return self.grading.sandbox
        return {"docker": "container", "kubernetes": "kubernetes"}.get(self.spawner.backend, "local")

    @property
    def teams_dir(self) -> Path:
        """Funathon teams' shared folders (`teams/<team>`), linked into their members' homes."""
        return self.data_dir / "teams"

    @property
    def challenges_dir(self) -> Path:
        return self.path(self.challenges.source_dir)

    @property
    def challenges_release_dir(self) -> Path:
        """Public data and starter notebooks of the challenges (learners' homes get them under `defis/`)."""
        return self.release_dir / "defis"

    @property
    def challenges_hidden_dir(self) -> Path:
        """The challenges' labels and public/private splits: the grading service's alone."""
        return self.grading_dir / "defis"

    @property
    def grading_dir(self) -> Path:
        """The grading service's own files (gradebooks, submissions, feedback): never visible to learners."""
        return self.data_dir / "grading"

    def grading_db_url(self) -> str:
        return self.grading.db_url or f"sqlite:///{self.grading_dir / 'grading.sqlite'}"

    @property
    def realm_file(self) -> Path:
        return self.path(self.identity.realm_file)

    def client_secret(self) -> str:
        """The OIDC client secret: from the environment, or generated once for the embedded provider."""
        secret = os.environ.get(SECRET_ENV, "")
        if secret:
            return secret
        if self.identity.provider == "embedded":
            return _file_secret(self.data_dir / "oidc_client_secret")
        raise SettingsError(
            f"identity.provider is 'keycloak' but {SECRET_ENV} is not set: "
            "export the Keycloak client's secret in that variable"
        )


def _file_secret(path: Path) -> str:
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def schema() -> dict:
    """The JSON Schema of the settings file, generated from the dataclasses above (defaults, types,
    choices, limits): `hub_config/settings.schema.json` is it, written out for editors."""
    from .schema import dataclass_schema

    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "autoformation settings",
            **dataclass_schema(Settings)}


def _build(cls: type, values: dict | None) -> Any:
    """Dataclasses from values the schema has accepted (numbers given where text is expected become text)."""
    hints = get_type_hints(cls)
    kwargs = {}
    for name, value in (values or {}).items():
        typ = hints[name]
        if dataclasses.is_dataclass(typ):
            value = _build(typ, value)
        elif typ is str:
            value = str(value)
        elif typ is float:
            value = float(value)
        kwargs[name] = value
    return cls(**kwargs)


def _check(settings: Settings) -> None:
    ports = {
        "platform.port": settings.platform.port,
        "platform.hub_port": settings.platform.hub_port,
        "platform.proxy_api_port": settings.platform.proxy_api_port,
        "grading.port": settings.grading.port,
        "book.port": settings.book.port,
    }
    if settings.identity.provider == "embedded":
        ports["identity.embedded_port"] = settings.identity.embedded_port
    seen: dict[int, str] = {}
    for name, port in ports.items():
        if port in seen:
            raise SettingsError(f"settings '{seen[port]}' and '{name}' use the same port {port}")
        seen[port] = name
    if settings.identity.provider == "keycloak" and not settings.identity.url:
        raise SettingsError("setting 'identity.url' is required when identity.provider is 'keycloak'")
    if settings.identity.provider == "embedded" and not settings.realm_file.is_file():
        raise SettingsError(f"setting 'identity.realm_file': no such file {settings.realm_file}")
    names = [settings.groups.learners, settings.groups.trainers, settings.groups.admins]
    if any(not n for n in names) or len(set(names)) != 3:
        raise SettingsError("settings 'groups.*' must be three different, non-empty group names")


def load(path: str | os.PathLike | None = None) -> Settings:
    """Read the settings file (default: $AUTOFORMATION_CONFIG or hub_config/settings.yaml)."""
    path = Path(path or os.environ.get("AUTOFORMATION_CONFIG") or DEFAULT_SETTINGS_FILE)
    if not path.is_file():
        raise SettingsError(f"settings file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise SettingsError(f"settings file {path} is not valid YAML: {err}") from None
    from .schema import first_error

    problem = first_error(schema(), values)
    if problem:
        raise SettingsError(problem)
    settings = _build(Settings, values)
    settings.source = str(path)
    _check(settings)
    return settings


if __name__ == "__main__":  # python -m autoformation.settings > hub_config/settings.schema.json
    import json

    print(json.dumps(schema(), indent=2, ensure_ascii=False))
