"""The grading runner as a pod per submission on Kubernetes (the `kubernetes` sandbox).

The hub pod of the Zero to JupyterHub chart cannot create the namespaces bubblewrap needs (uid 1000,
no capabilities, RuntimeDefault seccomp), so on a cluster each submission is graded in a pod of the
course's own image. The protocol is the local and container sandboxes' one (a request in, a reply
out), carried by what the Kubernetes API offers without websockets: the runner's files and the request
in a Secret made for the submission and mounted read-only, the reply on the pod's log. The pod has no
service-account token, no network (a deny-all NetworkPolicy), the restricted security profile, a
deadline and limits; the pod and its Secret are deleted once the reply is read, whatever happened.

`KubernetesSandbox.command()` is `python -m autoformation.grading.cluster run POD`: a small client
(kubernetes_asyncio, KubeSpawner's own) that reads the request on its stdin, creates the Secret and
the pod, waits, writes the log to its stdout and deletes both, so the executor drives it like the
other sandboxes. The objects the service needs once per namespace (the NetworkPolicy, the right to
read pods' logs) are printed by `autoformation grading cluster-objects --namespace NS`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .executor import EXERCISE, HERE, RUNNER, RUNNER_FILES, RUNTIME, WORKDIR, Limits

COMPONENT = {"app.kubernetes.io/name": "autoformation", "app.kubernetes.io/component": "grading"}
REQUEST = "request.json"
EXERCISE_KEY = "exercice--"  # Secret keys of the exercise's files (mounted at EXERCISE, under their names)
# A Secret holds at most 1 MiB: the runner's files (~60 KB) and the cells' sources fit far below.
MAX_SECRET_BYTES = 900 * 1024
RELEASE_IN_IMAGE = "/opt/autoformation/release"


def exercise_in_image(course_id: str, assignment_id: str) -> str:
    """Where the course image holds the assignment's files (its release), read-only."""
    return f"{RELEASE_IN_IMAGE}/{course_id}/{assignment_id}"


def request_secret(name: str, namespace: str, request: bytes, exercise: dict[str, bytes] | None = None) -> dict:
    """The runner's files and the request, for one submission (Secret: the request carries learner code),
    and the exercise's files when they are not in the image (a challenge's scorer and hidden labels)."""
    files = {n: (HERE / n).read_bytes() for n in RUNNER_FILES} | {REQUEST: request}
    files |= {EXERCISE_KEY + n: b for n, b in (exercise or {}).items()}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(COMPONENT)},
            "data": {n: base64.b64encode(b).decode() for n, b in files.items()}}


def deny_all_network_policy(namespace: str) -> dict:
    """Grading pods talk to nobody and nobody talks to them."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "autoformation-grading-deny-all", "namespace": namespace,
                         "labels": dict(COMPONENT)},
            "spec": {"podSelector": {"matchLabels": dict(COMPONENT)}, "policyTypes": ["Ingress", "Egress"],
                     "ingress": [], "egress": []}}


def log_reader_role(namespace: str, service_account: str) -> list[dict]:
    """The one right the chart's hub Role lacks: reading a pod's log (pods and secrets it already has)."""
    name = "autoformation-grading-logs"
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": namespace, "labels": dict(COMPONENT)},
         "rules": [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": namespace, "labels": dict(COMPONENT)},
         "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}},
    ]


def cluster_objects(namespace: str, service_account: str = "hub") -> list[dict]:
    return [deny_all_network_policy(namespace), *log_reader_role(namespace, service_account)]


def grading_pod(name: str, image: str, namespace: str, limits: Limits, exercise: str = EXERCISE,
                shipped: list[str] = ()) -> dict:
    """The pod grading one submission; `shipped`: the exercise's files that come in its Secret (then mounted
    at EXERCISE) rather than from the image's release (`exercise`)."""
    work_size = f"{limits.max_file_mb * 2 + 64}Mi"
    memory = f"{limits.memory_mb + 512}Mi"
    runner_items = [{"key": n, "path": n} for n in (*RUNNER_FILES, REQUEST)]
    volumes = [
        {"name": "runner", "secret": {"secretName": name, "defaultMode": 0o444, "items": runner_items}},
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
    if shipped:
        exercise = EXERCISE
        volumes.append({"name": "exercise", "secret": {"secretName": name, "defaultMode": 0o444, "items": [
            {"key": EXERCISE_KEY + n, "path": n} for n in shipped]}})
        mounts.append({"name": "exercise", "mountPath": EXERCISE, "readOnly": True})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(COMPONENT)},
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
                # The reply is the log: the runner's stderr (kernels' noise) goes nowhere.
                "command": ["sh", "-c", f"exec python -I {RUNNER}/runner.py < {RUNNER}/{REQUEST} 2>/dev/null"],
                "workingDir": WORKDIR,
                "env": [{"name": "HOME", "value": exercise}, {"name": "MPLBACKEND", "value": "agg"},
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


@dataclass
class KubernetesSandbox:
    """A pod of the course's image per submission, through the Kubernetes API (in the hub pod: its
    service account; elsewhere: $KUBECONFIG)."""

    image: str
    namespace: str
    exercise: str = EXERCISE  # the assignment's folder in the image (exercise_in_image)
    env: dict[str, str] | None = None
    ship_exercise: bool = False  # the staged exercise files go in the Secret (flat, small: a challenge's)

    @staticmethod
    def name(staged: dict[str, str]) -> str:
        """One per submission being graded (its staging folder), a valid Kubernetes name."""
        return "autoformation-grading-" + hashlib.sha256(Path(staged["runner"]).parent.name.encode()).hexdigest()[:16]

    def command(self, staged: dict[str, str], limits: Limits) -> list[str]:
        shipped = sorted(p.name for p in Path(staged["exercise"]).iterdir() if p.is_file()) \
            if self.ship_exercise else []
        pod = grading_pod(self.name(staged), self.image, self.namespace, limits, self.exercise, shipped)
        files = ["--files", staged["exercise"]] if shipped else []
        return [sys.executable, "-m", "autoformation.grading.cluster", "run", json.dumps(pod),
                "--deadline", str(limits.wall_timeout + 60), *files]

    def group(self, limits: Limits) -> Path | None:
        return None  # the pod's own limits apply

    def stop(self, staged: dict[str, str]) -> None:
        """The client was killed (wall time): delete what it made, with the same client and environment."""
        subprocess.run([sys.executable, "-m", "autoformation.grading.cluster", "delete", self.name(staged),
                        "--namespace", self.namespace], env={"PATH": os.environ["PATH"], **(self.env or {})},
                       capture_output=True, timeout=120)


# --- the client: one pod per submission ------------------------------------------------------------
async def _api():
    from kubernetes_asyncio import client, config

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()
    else:
        await config.load_kube_config()
    return client.ApiClient()


async def _delete(name: str, namespace: str) -> None:
    from kubernetes_asyncio.client import CoreV1Api
    from kubernetes_asyncio.client.exceptions import ApiException

    async with await _api() as api:
        v1 = CoreV1Api(api)
        for delete in (v1.delete_namespaced_pod, v1.delete_namespaced_secret):
            try:
                await delete(name, namespace, grace_period_seconds=0)
            except ApiException as err:
                if err.status != 404:
                    raise


async def run_pod(pod: dict, request: bytes, deadline: float, exercise: dict[str, bytes] | None = None) -> bytes:
    """Create the Secret and the pod, wait for the pod to end, return its log; delete both."""
    from kubernetes_asyncio.client import CoreV1Api

    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    secret = request_secret(name, namespace, request, exercise)
    if sum(len(v) for v in secret["data"].values()) > MAX_SECRET_BYTES:
        return json.dumps({"outcome": "error", "error": "the code and files to grade are too large to be sent "
                           f"in a Secret ({MAX_SECRET_BYTES // 1024} KB)"}).encode()
    async with await _api() as api:
        v1 = CoreV1Api(api)
        await v1.create_namespaced_secret(namespace, secret)
        try:
            await v1.create_namespaced_pod(namespace, pod)
            end = time.monotonic() + deadline
            while time.monotonic() < end:
                status = await v1.read_namespaced_pod(name, namespace)  # `pods/status` is a right of its own
                if status.status.phase in ("Succeeded", "Failed"):
                    break
                await asyncio.sleep(0.5)
            else:
                return json.dumps({"outcome": "wall"}).encode()
            # Raw: the client would otherwise parse a log that is JSON and hand back its Python repr.
            log = await v1.read_namespaced_pod_log(name, namespace, container="runner", _preload_content=False)
            return await log.read()
        finally:
            await _delete(name, namespace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autoformation grading", description="Grading on Kubernetes.")
    sub = parser.add_subparsers(dest="action", required=True)
    objects = sub.add_parser("cluster-objects", help="print the objects the grading service needs in a namespace "
                             "(kubectl apply -f -)")
    objects.add_argument("--namespace", required=True)
    objects.add_argument("--service-account", default="hub", help="the hub's (default: hub, the chart's)")
    run = sub.add_parser("run", help="(internal) grade one request, read on stdin, in this pod")
    run.add_argument("pod")
    run.add_argument("--deadline", type=float, default=600)
    run.add_argument("--files", help="a folder whose files go in the Secret, mounted as the exercise's")
    delete = sub.add_parser("delete", help="(internal) delete a grading pod and its Secret")
    delete.add_argument("name")
    delete.add_argument("--namespace", required=True)
    args = parser.parse_args(argv)
    if args.action == "delete":
        asyncio.run(_delete(args.name, args.namespace))
        return 0
    if args.action == "cluster-objects":
        import yaml

        print(yaml.safe_dump_all(cluster_objects(args.namespace, args.service_account), sort_keys=False), end="")
        return 0
    request = sys.stdin.buffer.read(MAX_SECRET_BYTES + 1)
    try:
        exercise = {p.name: p.read_bytes() for p in Path(args.files).iterdir() if p.is_file()} if args.files else None
        reply = asyncio.run(run_pod(json.loads(args.pod), request, args.deadline, exercise))
    except Exception as err:  # noqa: BLE001 - the API's own message, for the service's log
        print(f"grading pod: {err}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
