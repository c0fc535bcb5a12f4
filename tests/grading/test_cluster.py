"""The grading pod per submission on Kubernetes: manifests strictly valid, and locked down (fast: no pod)."""

from __future__ import annotations

import base64
import json

import kubernetes_validate
import pytest
import yaml

from autoformation.cli import main as cli
from autoformation.grading import cluster
from autoformation.grading.executor import EXERCISE, RUNNER, Limits

KUBE_VERSIONS = ("1.30.0", "1.33.0", "1.37.0")
LIMITS = Limits(cell_timeout=30, wall_timeout=300, memory_mb=2048, cpu_seconds=120, max_output_kb=1024)
NAME = "autoformation-grading-0123456789abcdef"


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_manifests_are_strictly_valid(version):
    for manifest in (cluster.grading_pod(NAME, "registry.example/autoformation-ml:2026.11", "formation", LIMITS),
                     cluster.request_secret(NAME, "formation", b'{"cells": []}'),
                     *cluster.cluster_objects("formation")):
        kubernetes_validate.validate(manifest, version, strict=True)


def test_pod_is_locked_down():
    pod = cluster.grading_pod(NAME, "img", "formation", LIMITS, "/opt/autoformation/release/ml/01")
    spec, container = pod["spec"], pod["spec"]["containers"][0]
    assert spec["automountServiceAccountToken"] is False and spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == LIMITS.wall_timeout
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] != 0
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "privileged": False, "capabilities": {"drop": ["ALL"]}}
    assert container["resources"]["limits"]["memory"] == "2560Mi"
    assert not any("hostPath" in v or "persistentVolumeClaim" in v for v in spec["volumes"])
    assert {"name": "HOME", "value": "/opt/autoformation/release/ml/01"} in container["env"]
    # The runner and the request: the submission's own Secret, read-only; nothing else is mounted from outside.
    (runner,) = [v for v in spec["volumes"] if "secret" in v]
    assert runner["secret"]["secretName"] == NAME and runner["secret"]["defaultMode"] == 0o444
    assert {i["key"] for i in runner["secret"]["items"]} == {"runner.py", "values.py", "kernel_side.py", "request.json"}
    assert {"name": "runner", "mountPath": RUNNER, "readOnly": True} in container["volumeMounts"]
    # A challenge's files (its scorer and hidden labels, never in an image) come in the Secret, read-only.
    shipped = cluster.grading_pod(NAME, "img", "formation", LIMITS, shipped=["labels.json", "score.py"])
    (exercise,) = [v for v in shipped["spec"]["volumes"] if v["name"] == "exercise"]
    assert exercise["secret"]["items"] == [{"key": "exercice--labels.json", "path": "labels.json"},
                                           {"key": "exercice--score.py", "path": "score.py"}]
    assert {"name": "exercise", "mountPath": EXERCISE, "readOnly": True} in \
        shipped["spec"]["containers"][0]["volumeMounts"]
    policy = cluster.deny_all_network_policy("formation")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []


def test_the_secret_carries_the_runner_the_service_uses_and_the_request():
    secret = cluster.request_secret(NAME, "formation", b'{"cells": [1]}')
    data = {name: base64.b64decode(value) for name, value in secret["data"].items()}
    assert set(data) == {"runner.py", "values.py", "kernel_side.py", "request.json"}
    assert b"def grade(request" in data["runner.py"] and json.loads(data["request.json"]) == {"cells": [1]}
    assert sum(len(v) for v in secret["data"].values()) < cluster.MAX_SECRET_BYTES // 4  # room for the cells


def test_the_cluster_objects_command_prints_what_kubectl_applies(capsys):
    assert cli(["grading", "cluster-objects", "--namespace", "formation"]) == 0
    objects = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [o["kind"] for o in objects] == ["NetworkPolicy", "Role", "RoleBinding"]
    assert objects[1]["rules"] == [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}]
    assert objects[2]["subjects"] == [{"kind": "ServiceAccount", "name": "hub", "namespace": "formation"}]
