"""Grading on Kubernetes without a cluster: the real client, a stand-in API server, real pods.

The grading client (`grading/cluster.py`) talks to a stand-in of the Kubernetes API on loopback
(tests/support/kube_api.py: the API's paths and objects for Secrets and Pods), which runs each grading
pod for real with `podman kube play`, in the ml course's own image (built as tests/test_images.py builds
it). So the manifest, the Secret carrying the runner and the request, the reply read from the pod's log
and the clean-up are the ones a cluster would get; the cluster's own admission, RBAC and NetworkPolicy
are not (podman runs the pod without network, as the deny-all policy has it).
"""

from __future__ import annotations

import pytest
import yaml

from autoformation.grading import executor
from autoformation.grading.cluster import KubernetesSandbox, cluster_objects, exercise_in_image
from tests.conftest import free_port
from tests.grading.sandbox_checks import (
    LIMITS,
    ROOT,
    SOURCE,
    learner_code_reaches_nothing,
    solution_full_marks_and_wrong_answer_zero,
)
from tests.support.kube_api import Cluster, kubeconfig, serve
from tests.test_images import built, engine, release  # noqa: F401 (fixtures: the ml image, built once)

pytestmark = pytest.mark.slow



VERBS = {"POST": "create", "GET": "get", "DELETE": "delete"}
CHART_RBAC = ROOT.parent / "shared" / "z2jh" / "jupyterhub-4.4.0" / "templates" / "hub" / "rbac.yaml"


def resource(path: str) -> str:
    """/api/v1/namespaces/NS/pods/NAME/log -> pods/log (the name RBAC rules use)."""
    parts = path.split("/")[5:]
    return parts[0] + (f"/{parts[2]}" if len(parts) > 2 else "")


def granted_rules() -> list[dict]:
    """The hub service account's rules: the chart's hub Role (its template, without the Helm lines) and ours."""
    ours = cluster_objects("formation")[1]["rules"]
    if not CHART_RBAC.is_file():  # a clone without the chart beside it: the chart's Role as of 4.4.0
        return [*ours, {"verbs": ["get", "watch", "list", "create", "delete"],
                        "resources": ["pods", "persistentvolumeclaims", "secrets", "services"]}]
    text = "\n".join(line for line in CHART_RBAC.read_text().split("---")[0].splitlines() if "{{" not in line)
    return [*ours, *yaml.safe_load(text)["rules"]]


@pytest.fixture(scope="module")
def cluster(engine, built, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("kube")
    state = Cluster(engine, folder)
    port = free_port()
    stop = serve(state, port)
    state.kubeconfig = kubeconfig(port, folder)
    yield state
    stop()


@pytest.fixture
def sandbox(cluster, built):  # noqa: F811
    cluster.calls.clear()
    yield KubernetesSandbox(built, "formation", exercise_in_image("ml", "01-premiers-modeles"),
                            {"KUBECONFIG": str(cluster.kubeconfig)})
    # Whatever happened, the pod and its Secret are gone, from the API and from the machine.
    assert cluster.pods == {} and cluster.secrets == {}
    for kind in ("ps", "volume"):
        left = cluster.engine.run(*([kind, "--all"] if kind == "ps" else [kind, "ls"]), check=False).stdout
        assert "autoformation-grading-" not in left, left


def test_a_submission_is_graded_in_a_pod_of_the_course_image(cluster, sandbox):
    def asked_what_it_may():
        # What the client asked: the Secret, the pod, the pod until it ended, its log, then both deleted; all
        # of it allowed by the chart's hub Role and the log reader of `autoformation grading cluster-objects`.
        asked = [(VERBS[method], resource(path)) for method, path in cluster.calls]
        assert asked[:2] == [("create", "secrets"), ("create", "pods")] and asked[2] == ("get", "pods")
        assert asked[-3:] == [("get", "pods/log"), ("delete", "pods"), ("delete", "secrets")]
        allowed = {(verb, res) for rule in granted_rules() for verb in rule["verbs"] for res in rule["resources"]}
        assert set(asked) <= allowed, set(asked) - allowed

    solution_full_marks_and_wrong_answer_zero(sandbox, between=asked_what_it_may)


def test_learner_code_in_the_grading_pod_reaches_nothing(sandbox):
    learner_code_reaches_nothing(sandbox, exercise_in_image("ml", "01-premiers-modeles"),
                                 service_account_token="open('/var/run/secrets/kubernetes.io/serviceaccount/token')")


def test_a_pod_past_its_deadline_is_deleted_and_the_submission_times_out(sandbox):
    limits = executor.Limits(cell_timeout=120, wall_timeout=20, memory_mb=2048, cpu_seconds=300, max_output_kb=64)
    reply = executor.run([{"kind": "code", "source": "import time\ntime.sleep(600)"}], "", SOURCE.parent, limits,
                         sandbox=sandbox)
    assert reply["outcome"] == "wall"


def test_the_grading_service_grades_in_a_pod_when_set_to(cluster, built, tmp_path, monkeypatch):  # noqa: F811
    from autoformation.catalogue import load_course
    from autoformation.grading.autograde import grade_submission
    from autoformation.grading.gradebook import gradebook_url, prepare_gradebook
    from autoformation.grading.sandboxes import sandbox_for
    from autoformation.settings import Settings
    from tests.test_images import VERSION

    settings = Settings()
    settings.platform.data_dir = str(tmp_path)
    settings.courses.version, settings.kubernetes.image_registry = VERSION, ""  # the image built here
    settings.kubernetes.namespace, settings.grading.sandbox = "formation", "kubernetes"
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    course = load_course(ROOT / "courses" / "ml")
    sandbox = sandbox_for(settings, course.image, exercise_in_image(course.id, "01-premiers-modeles"))
    assert sandbox == KubernetesSandbox(built, "formation", exercise_in_image("ml", "01-premiers-modeles"),
                                        sandbox.env) and sandbox.env["KUBECONFIG"] == str(cluster.kubeconfig)
    url = gradebook_url(settings, course.id)
    prepare_gradebook(course, url)
    result = grade_submission(course, "01-premiers-modeles", SOURCE.name, "alice", SOURCE.read_bytes(), url, LIMITS,
                              sandbox)
    assert (result.status, result.score) == ("graded", result.max_score - 2), result.message  # free text: trainer
    assert "Premières vérifications réussies" in result.feedback_html and cluster.pods == {} and cluster.secrets == {}


def test_a_challenge_is_scored_in_a_pod_with_its_hidden_labels_shipped_not_in_the_image(cluster, built, tmp_path,
                                                                                      monkeypatch):  # noqa: F811
    import json
    from types import SimpleNamespace

    from autoformation.challenges import load_challenge, read_labels, release_challenge
    from autoformation.grading.challenges import Scorer
    from autoformation.settings import Settings
    from tests.test_images import VERSION

    settings = Settings()
    settings.platform.data_dir = str(tmp_path)
    settings.courses.version, settings.kubernetes.image_registry = VERSION, ""
    settings.kubernetes.namespace, settings.spawner.backend = "formation", "kubernetes"  # grading.sandbox: auto
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    challenge = load_challenge(ROOT / "challenges" / "prix-immobilier")
    release_challenge(challenge, settings.challenges_release_dir, settings.challenges_hidden_dir)
    labels = read_labels(settings.challenges_hidden_dir / challenge.id / "labels.csv", challenge)
    scorer = Scorer(settings, None, {challenge.id: challenge})
    cluster.calls.clear()
    perfect = SimpleNamespace(id=1, challenge=challenge.id, content=json.dumps(labels).encode())
    result, _, public, private = scorer.score(perfect)
    assert (result, public["mape"], private["mape"]) == ("scored", 0.0, 0.0)
    assert ("POST", "/api/v1/namespaces/formation/pods") in cluster.calls  # in a pod, not on this machine
    halved = SimpleNamespace(id=2, challenge=challenge.id,
                             content=json.dumps({i: v / 2 for i, v in labels.items()}).encode())
    assert scorer.score(halved)[2]["mape"] == 50.0
