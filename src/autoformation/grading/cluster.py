"""The grading runner as a pod per submission on Kubernetes (the `kubernetes` backend): manifests.

The hub pod of the Zero to JupyterHub chart cannot create the namespaces bubblewrap needs (uid 1000,
no capabilities, RuntimeDefault seccomp), so on a cluster each submission is graded in a pod of the
course's own image: the runner's files from a ConfigMap, the request on the container's stdin and the
reply on its stdout (the same protocol as the local and container sandboxes), no service-account token,
no network (a deny-all NetworkPolicy), the restricted security profile, a deadline and limits.

What is built and checked here: the manifests (validated strictly against the Kubernetes schemas in
the tests). What is not: the client that creates the pod, attaches to it and reads its log; no cluster
can be had on the development machines (see hub_config/helm/README.md).
"""

from __future__ import annotations

from .executor import EXERCISE, HERE, RUNNER, RUNNER_FILES, RUNTIME, WORKDIR, Limits

COMPONENT = {"app.kubernetes.io/name": "autoformation", "app.kubernetes.io/component": "grading"}
RUNNER_CONFIG_MAP = "autoformation-grading-runner"


def runner_config_map(namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": RUNNER_CONFIG_MAP, "namespace": namespace, "labels": dict(COMPONENT)},
            "data": {name: (HERE / name).read_text() for name in RUNNER_FILES}}


def deny_all_network_policy(namespace: str) -> dict:
    """Grading pods talk to nobody and nobody talks to them (the API server attaches to stdin)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "autoformation-grading-deny-all", "namespace": namespace,
                         "labels": dict(COMPONENT)},
            "spec": {"podSelector": {"matchLabels": dict(COMPONENT)}, "policyTypes": ["Ingress", "Egress"],
                     "ingress": [], "egress": []}}


def grading_pod(submission_id: int, image: str, namespace: str, limits: Limits) -> dict:
    work_size = f"{limits.max_file_mb * 2 + 64}Mi"
    memory = f"{limits.memory_mb + 512}Mi"
    volumes = [
        {"name": "runner", "configMap": {"name": RUNNER_CONFIG_MAP, "defaultMode": 0o444}},
        {"name": "work", "emptyDir": {"medium": "Memory", "sizeLimit": work_size}},
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": work_size}},
        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
    ]
    mounts = [
        {"name": "runner", "mountPath": RUNNER, "readOnly": True},
        {"name": "work", "mountPath": WORKDIR},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "run", "mountPath": "/run"},
    ]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"autoformation-grading-{submission_id}", "namespace": namespace,
                     "labels": {**COMPONENT, "autoformation/submission": str(submission_id)}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "activeDeadlineSeconds": limits.wall_timeout,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "runner",
                "image": image,
                "command": ["python", "-I", f"{RUNNER}/runner.py"],
                "stdin": True,
                "stdinOnce": True,
                "workingDir": WORKDIR,
                "env": [{"name": "HOME", "value": EXERCISE}, {"name": "MPLBACKEND", "value": "agg"},
                        {"name": "JUPYTER_RUNTIME_DIR", "value": RUNTIME}],
                "resources": {"requests": {"cpu": "500m", "memory": memory},
                              "limits": {"cpu": "1", "memory": memory, "ephemeral-storage": "256Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "privileged": False, "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": mounts,
            }],
            "volumes": volumes,
        },
    }


def exercise_in_image(course_id: str, assignment_id: str) -> str:
    """Where the course image holds the assignment's files (its release), read-only."""
    return f"/opt/autoformation/release/{course_id}/{assignment_id}"
