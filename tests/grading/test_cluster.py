"""The grading pod per submission on Kubernetes: manifests strictly valid, and locked down."""

from __future__ import annotations

import kubernetes_validate
import pytest

from autoformation.grading import cluster
from autoformation.grading.executor import Limits

KUBE_VERSIONS = ("1.30.0", "1.33.0", "1.37.0")
LIMITS = Limits(cell_timeout=30, wall_timeout=300, memory_mb=2048, cpu_seconds=120, max_output_kb=1024)


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_manifests_are_strictly_valid(version):
    for manifest in (cluster.grading_pod(42, "registry.example/autoformation-ml:2026.11", "formation", LIMITS),
                     cluster.deny_all_network_policy("formation"), cluster.runner_config_map("formation")):
        kubernetes_validate.validate(manifest, version, strict=True)


def test_pod_is_locked_down():
    pod = cluster.grading_pod(42, "img", "formation", LIMITS)
    spec, container = pod["spec"], pod["spec"]["containers"][0]
    assert spec["automountServiceAccountToken"] is False and spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == LIMITS.wall_timeout
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] != 0
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "privileged": False, "capabilities": {"drop": ["ALL"]}}
    assert container["resources"]["limits"]["memory"] == "2560Mi"
    assert not any("hostPath" in v or "persistentVolumeClaim" in v for v in spec["volumes"])
    policy = cluster.deny_all_network_policy("formation")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []


def test_config_map_carries_the_runner_the_service_uses():
    data = cluster.runner_config_map("formation")["data"]
    assert set(data) == {"runner.py", "values.py", "kernel_side.py"}
    assert "def grade(request" in data["runner.py"]
