"""The Kubernetes backend, without a cluster: the real KubeSpawner builds each course's pod and PVC
manifests from `configure_kubernetes`, and the manifests are validated strictly against the
Kubernetes OpenAPI schemas of several Kubernetes versions (kubernetes-validate). The Helm values
are checked against the settings they carry. No API server is contacted.
"""

from __future__ import annotations

import asyncio
import copy
import html
import os
import re
from pathlib import Path
from unittest.mock import Mock

import jsonschema
import kubernetes_validate
import pytest
import yaml
from jupyterhub.objects import Hub, Server
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner
from traitlets.config import Config

from autoformation import settings as settings_module
from autoformation.catalogue import Course, load_catalogue
from autoformation.settings import Culler, Settings, SettingsError
from autoformation.spawners import kubernetes as k8s

ROOT = Path(__file__).resolve().parents[2]
VALUES_FILE = ROOT / "hub_config" / "helm" / "values.yaml"
KUBE_VERSIONS = ("1.30.0", "1.33.0", "1.37.0")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LEARNERS = ("alice", "Marie.Dupont@insee.fr")  # the second needs escaping into Kubernetes names

FIXTURE_COURSES = {
    "analyse": {
        "name": {"fr": "Analyser des données avec pandas", "en": "Data analysis with pandas"},
        "abstract": {"fr": "Lire, filtrer et résumer des tableaux de données.", "en": "Read and summarise."},
        "image": "base",
        "order": 1,
    },
    "apprentissage": {
        "name": {"fr": "Premiers modèles d'apprentissage", "en": "First machine-learning models"},
        "abstract": {"fr": "Entraîner et évaluer un modèle de classification."},
        "image": "ml",
        "order": 2,
    },
}

DUMMY_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: not-a-real-token}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


@pytest.fixture(scope="module", autouse=True)
def dummy_kubeconfig(tmp_path_factory):
    """KubeSpawner loads a client configuration when constructed; it never gets to use it here."""
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(DUMMY_KUBECONFIG)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", str(path))
        # kubernetes_asyncio reads $KUBECONFIG once, at import.
        patch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
        yield path


@pytest.fixture(scope="module")
def fixture_courses(tmp_path_factory) -> list[Course]:
    root = tmp_path_factory.mktemp("courses")
    for course_id, fields in FIXTURE_COURSES.items():
        folder = root / course_id
        (folder / "source" / "01-intro").mkdir(parents=True)
        folder.joinpath("course.yaml").write_text(yaml.safe_dump({
            "id": course_id, **fields,
            "authors": ["Équipe autoformation"], "tags": ["learn"], "level": "débutant",
            "timeRequired": 60, "objectives": ["Savoir faire"],
            "assignments": [{"id": "01-intro", "title": "Introduction"}],
        }, allow_unicode=True), encoding="utf-8")
    return load_catalogue(root)


@pytest.fixture(params=["fixture-courses", "shared-fixture-courses", "project-courses"])
def courses(request, fixture_courses) -> list[Course]:
    """This file's courses and the tests' shared ones always; the project's courses/ when there are some."""
    if request.param == "fixture-courses":
        return fixture_courses
    if request.param == "shared-fixture-courses":
        return load_catalogue(ROOT / "tests" / "fixtures" / "courses")
    found = load_catalogue(Settings().courses_dir)
    if not found:
        pytest.skip(f"no course under {Settings().courses_dir} yet")
    return found


class MockUser(Mock):
    """The `user` a spawner gets from JupyterHub, as in KubeSpawner's own tests."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.id = 42
        self.server = Server()

    @property
    def escaped_name(self):
        return self.name

    @property
    def url(self):
        return self.server.url


async def _render(config: Config, username: str, profile: str | None) -> dict:
    # Constructed inside the running loop: KubeSpawner's clients belong to it.
    spawner = KubeSpawner(config=config, user=MockUser(username), hub=Hub(), _mock=True)
    spawner.user_options = {"profile": profile} if profile else {}
    await spawner.load_user_options()  # what KubeSpawner.start does first: applies the profile
    pod = await spawner.get_pod_manifest()
    pvc = spawner.get_pvc_manifest()
    async with ApiClient() as api:
        return {
            "spawner": spawner,
            "pod": api.sanitize_for_serialization(pod),
            "pvc": api.sanitize_for_serialization(pvc),
            "options_form": spawner.options_form,
        }


def render(config: Config, username: str = "alice", profile: str | None = None) -> dict:
    return asyncio.run(_render(config, username, profile))


def configured(settings: Settings, courses: list[Course]) -> Config:
    c = Config()
    k8s.configure_kubernetes(c, settings, courses)
    return c


def validate(manifest: dict) -> None:
    for version in KUBE_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


def containers(pod: dict) -> dict[str, dict]:
    spec = pod["spec"]
    return {c["name"]: c for c in spec.get("initContainers", []) + spec["containers"]}


# --- pods and claims for every course -------------------------------------------------------------


def test_every_course_profile_builds_valid_manifests(courses):
    settings = Settings()
    c = configured(settings, courses)
    claims = set()
    for course in courses:
        for username in LEARNERS:
            built = render(c, username, course.id)
            pod, pvc, spawner = built["pod"], built["pvc"], built["spawner"]
            validate(pod)
            validate(pvc)

            image = f"registry.example.org/autoformation/autoformation-{course.image}:{settings.courses.version}"
            assert image == course.image_name(settings.kubernetes.image_registry, settings.courses.version)
            server = pod["spec"]["containers"][0]
            assert server["name"] == "notebook" and server["image"] == image
            assert server["args"] == ["jupyterhub-singleuser"] and server["workingDir"] == "/home/jovyan"
            assert spawner.namespace == "autoformation"
            assert spawner.start_timeout == settings.spawner.start_timeout

            # The home: this learner's claim, mounted where the image expects it.
            volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
            assert volumes == {"home": {"name": "home", "persistentVolumeClaim": {"claimName": spawner.pvc_name}}}
            assert server["volumeMounts"] == [{"name": "home", "mountPath": "/home/jovyan"}]
            assert pvc["metadata"]["name"] == spawner.pvc_name
            assert DNS_LABEL.match(spawner.pvc_name) and DNS_LABEL.match(pod["metadata"]["name"])
            claims.add((username, spawner.pvc_name))

            # The material arrives before the server starts, from the same image, into the same home.
            material = pod["spec"]["initContainers"]
            assert [m["name"] for m in material] == ["material"]
            assert material[0]["image"] == image
            assert material[0]["command"] == [
                "python", "-m", "autoformation.material", "/opt/autoformation/release", "/home/jovyan",
            ]
            assert material[0]["volumeMounts"] == server["volumeMounts"]

            env = {e["name"]: e.get("value") for e in server["env"]}
            assert env["AUTOFORMATION_COURSE"] == course.id
            assert env["AUTOFORMATION_GRADING_URL"] == "http://proxy-public/services/grading/"
            assert env["JUPYTERHUB_DEFAULT_URL"] == settings.spawner.default_url
            assert env["JUPYTER_IMAGE"] == image
            assert env["JUPYTERHUB_USER"] == username
    # One claim per learner, the same whatever the course: changing course keeps the learner's files.
    assert len(claims) == len(LEARNERS)
    assert len({name for _, name in claims}) == len(LEARNERS)


def test_profiles_are_the_courses_in_french_first_one_default(courses):
    c = configured(Settings(), courses)
    profiles = c.KubeSpawner.profile_list
    assert [p["slug"] for p in profiles] == [course.id for course in courses]
    assert [p["display_name"] for p in profiles] == [course.title for course in courses]
    assert [p["description"] for p in profiles] == [course.abstract["fr"] for course in courses]
    assert [p.get("default", False) for p in profiles] == [True] + [False] * (len(courses) - 1)
    form = html.unescape(render(c)["options_form"])  # the page learners pick their course on
    for course in courses:
        assert course.title in form and course.abstract["fr"] in form


def test_no_profile_chosen_starts_the_default_course(fixture_courses):
    built = render(configured(Settings(), fixture_courses), profile=None)
    env = {e["name"]: e.get("value") for e in built["pod"]["spec"]["containers"][0]["env"]}
    assert env["AUTOFORMATION_COURSE"] == fixture_courses[0].id
    assert built["pod"]["spec"]["containers"][0]["image"].endswith("/autoformation-base:2026.11")


def test_resources_follow_the_settings(fixture_courses):
    settings = Settings()
    settings.spawner.cpu_guarantee, settings.spawner.cpu_limit = 0.25, 1.5
    settings.spawner.mem_guarantee, settings.spawner.mem_limit = "1G", "3G"
    pod = render(configured(settings, fixture_courses), profile="apprentissage")["pod"]
    validate(pod)
    # JupyterHub reads K/M/G as binary multiples; the init container gets exactly the server's resources.
    expected = {"requests": {"cpu": 0.25, "memory": 1024**3}, "limits": {"cpu": 1.5, "memory": 3 * 1024**3}}
    assert {name: c["resources"] for name, c in containers(pod).items()} == {
        "material": expected, "notebook": expected,
    }


def test_every_container_is_non_root_and_restricted(fixture_courses):
    settings = Settings()
    settings.kubernetes.uid, settings.kubernetes.gid = 1234, 4321
    pod = render(configured(settings, fixture_courses), profile="analyse")["pod"]
    validate(pod)
    assert pod["spec"]["securityContext"] == {
        "fsGroup": 4321, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert set(containers(pod)) == {"material", "notebook"}
    for container in containers(pod).values():
        # The "restricted" Pod Security Standard, container by container.
        context = container["securityContext"]
        assert context["runAsUser"] == 1234 and context["runAsGroup"] == 4321
        assert context["runAsNonRoot"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not context.get("privileged")


def test_claim_spec_and_data_kept(fixture_courses):
    settings = Settings()
    built = render(configured(settings, fixture_courses))
    pvc, spawner = built["pvc"], built["spawner"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "storageClassName" not in pvc["spec"]  # empty setting: the cluster's default class
    assert spawner.storage_pvc_ensure is True
    assert spawner.delete_pvc is False  # deleting a user does not delete their work

    settings.kubernetes.storage_class, settings.kubernetes.storage_capacity = "fast-ssd", "5Gi"
    pvc = render(configured(settings, fixture_courses))["pvc"]
    validate(pvc)
    assert pvc["spec"]["storageClassName"] == "fast-ssd"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_a_wrong_manifest_is_rejected_by_the_validation(fixture_courses):
    """The validation is strict: a misspelt field (as a typo in our code would make) fails."""
    pod = copy.deepcopy(render(configured(Settings(), fixture_courses))["pod"])
    pod["spec"]["initContainers"][0]["securityContext"]["runAsNonroot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, KUBE_VERSIONS[-1], strict=True)


def test_no_course_is_a_clear_error(tmp_path):
    settings = Settings()
    settings.courses.source_dir = str(tmp_path)
    with pytest.raises(SettingsError, match=r"no course was found in .*courses.source_dir"):
        k8s.configure_kubernetes(Config(), settings, [])


def test_platform_values_win_over_the_charts_defaults(fixture_courses):
    """On z2jh, the chart sets c.KubeSpawner from `singleuser` before hub.extraConfig runs."""
    c = Config()
    c.KubeSpawner.mem_guarantee = "1G"  # the chart's default singleuser.memory.guarantee
    c.KubeSpawner.start_timeout = 300  # the chart's default singleuser.startTimeout
    c.KubeSpawner.volumes = [{"name": "volume-{user_server}", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
    c.Spawner.environment = {"AUTOFORMATION_GRADING_URL": "http://127.0.0.1:8090/services/grading/", "KEEP": "1"}
    network_labels = {"hub.jupyter.org/network-access-hub": "true", "hub.jupyter.org/network-access-proxy-http": "true"}
    c.KubeSpawner.extra_labels = dict(network_labels)  # the chart's singleuser.extraLabels
    k8s.configure_kubernetes(c, Settings(), fixture_courses)
    built = render(c, profile="analyse")
    spawner, pod = built["spawner"], built["pod"]
    assert spawner.mem_guarantee == 512 * 1024**2 and spawner.start_timeout == 120
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["home"]
    # The chart's network-policy labels are left alone (learner pods need them to reach hub and proxy).
    assert network_labels.items() <= pod["metadata"]["labels"].items()
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["KEEP"] == "1"  # the hub's other variables are kept (the profile's are merged in)
    assert env["AUTOFORMATION_GRADING_URL"] == "http://proxy-public/services/grading/"


# --- Helm values ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES_FILE.read_text())


@pytest.fixture(scope="module")
def helm_settings_file(values, tmp_path_factory) -> Path:
    """The settings file the chart mounts into the hub, as the hub reads it."""
    files = values["hub"]["extraFiles"]
    assert len(files) == 1
    (entry,) = files.values()
    assert entry["mountPath"] == "/usr/local/etc/autoformation/settings.yaml"
    path = tmp_path_factory.mktemp("helm") / "settings.yaml"
    path.write_text(yaml.safe_dump(entry["data"], allow_unicode=True))
    return path


def test_helm_settings_file_is_valid_and_selects_kubernetes_and_keycloak(values, helm_settings_file):
    settings = settings_module.load(helm_settings_file)  # unknown or wrong keys would stop here
    assert settings.spawner.backend == "kubernetes"
    assert settings.identity.provider == "keycloak"
    assert Path(settings.courses.source_dir).is_absolute()  # the package is installed, not checked out
    assert Path(settings.platform.data_dir).is_absolute()
    env = values["hub"]["extraEnv"]
    assert env["AUTOFORMATION_CONFIG"] == values["hub"]["extraFiles"]["autoformation-settings"]["mountPath"]
    secret = env[settings_module.SECRET_ENV]
    assert set(secret) == {"valueFrom"} and set(secret["valueFrom"]["secretKeyRef"]) == {"name", "key"}
    assert "client_secret" not in VALUES_FILE.read_text()


def test_helm_singleuser_values_agree_with_the_settings(values, helm_settings_file):
    settings = settings_module.load(helm_settings_file)
    single = values["singleuser"]
    image = single["image"]
    assert image["name"].startswith(settings.kubernetes.image_registry + "/autoformation-")
    assert image["tag"] == settings.courses.version
    hub_image = values["hub"]["image"]
    assert hub_image["name"] == f"{settings.kubernetes.image_registry}/autoformation-hub"
    assert hub_image["tag"] == settings.courses.version
    assert single["uid"] == settings.kubernetes.uid and single["fsGid"] == settings.kubernetes.gid
    assert single["allowPrivilegeEscalation"] is False
    assert single["cpu"] == {"guarantee": settings.spawner.cpu_guarantee, "limit": settings.spawner.cpu_limit}
    assert single["memory"] == {"guarantee": settings.spawner.mem_guarantee, "limit": settings.spawner.mem_limit}
    assert single["defaultUrl"] == settings.spawner.default_url
    assert single["cmd"] == "jupyterhub-singleuser"
    assert single["startTimeout"] == settings.spawner.start_timeout
    storage = single["storage"]
    assert storage["type"] == "dynamic" and storage["capacity"] == settings.kubernetes.storage_capacity
    assert storage["homeMountPath"] == k8s.HOME
    assert storage["dynamic"]["pvcNameTemplate"] == k8s.PVC_NAME_TEMPLATE
    assert single["cloudMetadata"]["blockWithIptables"] is False  # it would add a privileged container
    assert single["extraLabels"]["hub.jupyter.org/network-access-proxy-http"] == "true"
    assert values.get("fullnameOverride", "") == ""  # k8s.PROXY_URL relies on the plain name proxy-public
    assert k8s.PROXY_URL == "http://proxy-public"


def test_helm_event_day_values(values, helm_settings_file):
    """Every course image pre-pulled, a hub that neither starves nor exits on a few failed starts, room
    kept for the first learners, and notebooks with plots through the ingress."""
    from autoformation.grading.service import MAX_BODY_BYTES

    settings = settings_module.load(helm_settings_file)
    courses = load_catalogue(ROOT / "courses")
    pulled = {(i["name"], i["tag"]) for i in values["prePuller"]["extraImages"].values()}
    wanted = {(f"{settings.kubernetes.image_registry}/autoformation-{c.image}", settings.courses.version)
              for c in courses}
    assert wanted and wanted <= pulled
    hub = values["hub"]
    assert hub["consecutiveFailureLimit"] == 0
    assert hub["resources"]["requests"]["cpu"] and hub["resources"]["requests"]["memory"]
    assert values["singleuser"]["startTimeout"] >= 300
    scheduling = values["scheduling"]
    assert scheduling["userPlaceholder"]["enabled"] and scheduling["userPlaceholder"]["replicas"] > 0
    assert scheduling["podPriority"]["enabled"] and scheduling["userScheduler"]["enabled"]
    body = values["ingress"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert int(body.rstrip("m")) * 1024**2 > MAX_BODY_BYTES


def test_helm_culler_keeps_users_and_uses_the_settings_timeout(values, helm_settings_file):
    settings = settings_module.load(helm_settings_file)
    cull = values["cull"]
    assert cull["enabled"] is True and settings.culler.enabled is True
    assert cull["timeout"] == settings.culler.timeout == Culler().timeout == 3600
    assert cull["users"] is False  # users, and so their claims, are never removed by the culler
    assert cull["removeNamedServers"] is False


def test_helm_extra_config_runs_the_platform_configuration(values, helm_settings_file, fixture_courses,
                                                           tmp_path, monkeypatch):
    """Run hub.extraConfig the way the chart does (exec with `c`), after chart-like settings."""
    data = yaml.safe_load(helm_settings_file.read_text())
    data["courses"]["source_dir"] = str(fixture_courses[0].path.parent)
    data["platform"]["data_dir"] = str(tmp_path / "data")
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    monkeypatch.setenv("AUTOFORMATION_CONFIG", str(settings_file))
    monkeypatch.setenv(settings_module.SECRET_ENV, "test-secret")

    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.mem_guarantee = "1G"
    c.JupyterHub.services = [{"name": "jupyterhub-idle-culler", "command": ["python3", "-m", "jupyterhub_idle_culler"]}]
    c.JupyterHub.load_roles = [{"name": "jupyterhub-idle-culler", "services": ["jupyterhub-idle-culler"]}]
    (code,) = values["hub"]["extraConfig"].values()
    exec(compile(code, "hub.extraConfig", "exec"), {"c": c})

    services = {s["name"]: s for s in c.JupyterHub.services}
    assert "jupyterhub-idle-culler" in services  # the chart's culler survives the platform's configuration
    assert "jupyterhub-idle-culler" in {r["name"] for r in c.JupyterHub.load_roles}
    extra_ports = {p["port"] for p in values["hub"]["service"]["extraPorts"]}
    allowed = {p["port"] for rule in values["hub"]["networkPolicy"]["ingress"] for p in rule["ports"]}
    for name, service in services.items():
        if "url" in service:  # the platform's services: reached by the proxy through the hub Service
            match = re.fullmatch(r"http://hub:(\d+)", service["url"])
            assert match, f"service {name} url {service['url']}"
            assert int(match.group(1)) in extra_ports and int(match.group(1)) in allowed

    built = render(c, profile=fixture_courses[1].id)
    validate(built["pod"])
    env = {e["name"]: e.get("value") for e in built["pod"]["spec"]["containers"][0]["env"]}
    assert env["AUTOFORMATION_COURSE"] == fixture_courses[1].id
    assert env["AUTOFORMATION_GRADING_URL"] == "http://proxy-public/services/grading/"
    assert built["spawner"].mem_guarantee == 512 * 1024**2


# The Zero to JupyterHub chart, unpacked (`helm pull jupyterhub --version 4.4.0 --untar`): $Z2JH_CHART_DIR,
# else the copy beside this checkout that the development machines have.
CHART_DIR = Path(os.environ.get("Z2JH_CHART_DIR") or ROOT.parent / "shared" / "z2jh" / "jupyterhub-4.4.0")
needs_chart = pytest.mark.skipif(not (CHART_DIR / "Chart.yaml").is_file(),
                                 reason="set Z2JH_CHART_DIR to an unpacked jupyterhub chart 4.x (helm pull --untar)")
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


@pytest.fixture(scope="module")
def rendered(values) -> list[dict]:
    """Every object the real chart renders with the project's values: Helm itself (the SDK bundles it), offline."""
    import helm_python

    chart = helm_python.Chart.load(CHART_DIR)
    files = chart.render(values, name="autoformation", namespace="autoformation")
    return [doc for path, text in files.items() if path.endswith(".yaml") for doc in yaml.safe_load_all(text) if doc]


@needs_chart
def test_the_chart_renders_with_our_values_into_valid_objects(rendered):
    kinds = {obj["kind"] for obj in rendered}
    assert {"Deployment", "Service", "Secret", "NetworkPolicy", "Ingress"} <= kinds
    for obj in rendered:
        validate(obj)  # strictly, at every Kubernetes version the project supports


@needs_chart
def test_every_rendered_pod_meets_the_restricted_pod_security_standard(rendered):
    pods = {f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["spec"] for o in rendered
            if o["kind"] in POD_KINDS}
    assert {"Deployment/hub", "Deployment/proxy", "Deployment/user-scheduler"} <= set(pods)
    for name, spec in pods.items():
        pod_context = spec.get("securityContext") or {}
        assert not (spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC")), name
        assert not any("hostPath" in volume for volume in spec.get("volumes", [])), name
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = {**pod_context, **(container.get("securityContext") or {})}
            where = f"{name}, container {container['name']}"
            assert context.get("runAsNonRoot") is True or context.get("runAsUser", 0) > 0, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where
            assert (context.get("seccompProfile") or {}).get("type") == "RuntimeDefault", where
            assert not context.get("privileged"), where


@needs_chart
def test_the_rendered_hub_carries_the_platform(rendered, values):
    import base64

    hub = next(o for o in rendered if o["kind"] == "Deployment" and o["metadata"]["name"] == "hub")
    (container,) = hub["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{values['hub']['image']['name']}:{values['hub']['image']['tag']}"
    # The settings file mounted where the hub reads it, and our configuration in the chart's values.
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/usr/local/etc/autoformation/settings.yaml" in mounts
    secret = next(o for o in rendered if o["kind"] == "Secret" and o["metadata"]["name"] == "hub")
    chart_values = yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))
    assert "from autoformation.hub import configure" in chart_values["hub"]["extraConfig"]["autoformation"]
    # The proxy reaches the platform's services through the hub Service, which the hub's policy lets in.
    service = next(o for o in rendered if o["kind"] == "Service" and o["metadata"]["name"] == "hub")
    ports = {p["port"] for p in service["spec"]["ports"]}
    policy = next(o for o in rendered if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "hub")
    allowed = {p["port"] for rule in policy["spec"]["ingress"] for p in rule.get("ports", [])}
    assert {8090, 8092} <= ports and {8090, 8092} <= allowed
    # PostgreSQL for the hub and the grading service, its password from a Secret made beside the release;
    # no volume for the hub: nothing it keeps lives on one.
    assert chart_values["hub"]["db"]["type"] == "postgres"
    env = {e["name"]: e for e in container["env"]}
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "autoformation-db", "key": "password"}
    settings = values["hub"]["extraFiles"]["autoformation-settings"]["data"]
    assert settings["grading"]["db_url"].startswith("postgresql+psycopg2://")
    assert not any(o["kind"] == "PersistentVolumeClaim" for o in rendered)
    # The book: copied from its image by an init container into the volume the book service serves.
    (book,) = hub["spec"]["template"]["spec"]["initContainers"]
    assert book["image"].endswith(f"/autoformation-book:{settings['courses']['version']}")
    assert {"name": "book", "mountPath": settings["book"]["site_dir"], "readOnly": True} in container["volumeMounts"]
    # Every course image is pulled on every node before the event.
    pullers = next(o for o in rendered if o["metadata"]["name"] == "continuous-image-puller")
    pulled = {c["image"] for c in pullers["spec"]["template"]["spec"]["initContainers"]}
    courses = load_catalogue(ROOT / "courses")
    registry = values["hub"]["extraFiles"]["autoformation-settings"]["data"]["kubernetes"]["image_registry"]
    version = values["hub"]["extraFiles"]["autoformation-settings"]["data"]["courses"]["version"]
    assert {c.image_name(registry, version) for c in courses} <= pulled


@needs_chart
def test_helm_values_match_the_charts_schema(values):
    chart = CHART_DIR
    schema = yaml.safe_load((chart / "values.schema.yaml").read_text()) if (chart / "values.schema.yaml").exists() \
        else yaml.safe_load((chart / "values.schema.json").read_text())
    merged = _merge(yaml.safe_load((chart / "values.yaml").read_text()), values)
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(merged)]
    assert not errors


def _merge(base: dict, override: dict) -> dict:
    """Helm's merge of user values over the chart's defaults."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
