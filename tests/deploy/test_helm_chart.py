"""The Helm chart (deploy/helm/iris): linted and rendered by Helm, validated by kubeconform
in strict mode against the Kubernetes schemas and the Prometheus Operator's, and checked
against the design, for the default values and the production example."""

from __future__ import annotations

import re
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from tests.deploy.design import ROOT, design
from tests.deploy.helm import (
    CHART,
    CRD_SCHEMAS,
    KUBERNETES_VERSION,
    VALUES,
    environment,
    helm,
    kubernetes_schemas,
    of_kind,
    pod_spec,
    rendered,
    rendered_text,
    secret_files,
    tool,
)

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
HIDDEN = ("/metrics", "/internal", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")
SECRET_LIKE = re.compile(r"PASSWORD|TOKEN|SECRET(?!S_DIR)|DATABASE_URL|REDIS_URL")
SETS = list(VALUES)


def project_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def args(workload: dict[str, Any]) -> list[str]:
    return list(pod_spec(workload)["containers"][0]["args"])


def labels(workload: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return found


def selects(selector: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    return all(pod_labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


@pytest.mark.parametrize("which", SETS)
def test_helm_lint_finds_nothing_in_strict_mode(which: str) -> None:
    done = helm("lint", str(CHART), "--strict", values=VALUES[which])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout and "[ERROR]" not in done.stdout


@pytest.mark.parametrize("which", SETS)
def test_kubeconform_accepts_every_rendered_object_in_strict_mode(which: str) -> None:
    schemas = kubernetes_schemas()
    done = subprocess.run(
        [
            tool("kubeconform"),
            "-strict",
            "-summary",
            "-kubernetes-version",
            KUBERNETES_VERSION,
            "-schema-location",
            f"{schemas}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}"
            "/{{.ResourceKind}}{{.KindSuffix}}.json",
            "-schema-location",
            f"{CRD_SCHEMAS}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
            "-",
        ],
        input=rendered_text(which),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(rendered(which))
    assert f"Valid: {count}, Invalid: 0, Errors: 0, Skipped: 0" in done.stdout, done.stdout


def test_kubeconform_refuses_an_unknown_field() -> None:
    """The check above can fail: strict validation rejects what Kubernetes would drop."""
    broken = rendered_text().replace(
        "revisionHistoryLimit: 5", "revisionHistoryLimit: 5\n  x: 1", 1
    )
    schemas = kubernetes_schemas()
    done = subprocess.run(
        [
            tool("kubeconform"),
            "-strict",
            "-kubernetes-version",
            KUBERNETES_VERSION,
            "-schema-location",
            f"{schemas}/{{{{.NormalizedKubernetesVersion}}}}-standalone{{{{.StrictSuffix}}}}"
            "/{{.ResourceKind}}{{.KindSuffix}}.json",
            "-skip",
            "PodMonitor,PrometheusRule",
            "-",
        ],
        input=broken,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "additional properties 'x' not allowed" in done.stdout


def test_the_image_tag_and_the_chart_follow_the_project_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == chart["version"] == project_version()
    for workload in [*of_kind("Deployment").values(), *of_kind("Job").values()]:
        image = pod_spec(workload)["containers"][0]["image"]
        assert image == f"iris:{project_version()}", image


@pytest.mark.parametrize("which", SETS)
def test_the_chart_runs_every_service_worker_and_migration_of_the_design(which: str) -> None:
    deployments, jobs = of_kind("Deployment", which), of_kind("Job", which)
    for service in design().services:
        apis = [d for d in deployments.values() if args(d)[:2] == ["api", service]]
        assert len(apis) == 1, service
        workers = [d for d in deployments.values() if args(d)[:2] == ["worker", service]]
        assert len(workers) == (1 if service in design().consumers else 0), service
        migrations = [j for j in jobs.values() if args(j)[:2] == ["migrate", service]]
        assert len(migrations) == 1, service
        databases = [w for w in workers if service != "viewer"]  # viewer worker: Redis only
        for workload in apis + databases + migrations:
            assert secret_files(workload)["IRIS_DATABASE_URL"][0] == f"iris-{service}-database"
    topics = [j for j in jobs.values() if args(j) == ["topics"]]
    assert len(topics) == 1
    for job in jobs.values():
        hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
        assert sorted(hooks) == ["pre-install", "pre-upgrade"], job["metadata"]["name"]


@pytest.mark.parametrize("which", SETS)
def test_every_deployment_has_probes_limits_a_budget_a_spread_and_a_pre_stop(which: str) -> None:
    budgets = of_kind("PodDisruptionBudget", which).values()
    for name, deployment in of_kind("Deployment", which).items():
        spec = pod_spec(deployment)
        container = spec["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
        assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= keys, name
        for constraint in spec["topologySpreadConstraints"]:
            assert selects(constraint["labelSelector"], labels(deployment)), name
        mine = [b for b in budgets if selects(b["spec"]["selector"], labels(deployment))]
        assert len(mine) == 1, name
        assert mine[0]["spec"].get("maxUnavailable") == 1, name


@pytest.mark.parametrize("which", SETS)
def test_an_autoscaled_deployment_leaves_its_replicas_to_a_sane_autoscaler(which: str) -> None:
    scalers = of_kind("HorizontalPodAutoscaler", which)
    assert "iris-viewer" in scalers
    for name, scaler in scalers.items():
        target = of_kind("Deployment", which)[scaler["spec"]["scaleTargetRef"]["name"]]
        assert "replicas" not in target["spec"], "reset by every apply beside an HPA"
        assert scaler["spec"]["minReplicas"] >= 2
        assert scaler["spec"]["maxReplicas"] > scaler["spec"]["minReplicas"]
        (metric,) = scaler["spec"]["metrics"]
        utilisation = metric["resource"]["target"]["averageUtilization"]
        assert 50 <= utilisation <= 80, name
        request = pod_spec(target)["containers"][0]["resources"]["requests"]["cpu"]
        assert int(str(request).removesuffix("m")) >= 250, "a target on a tiny request flaps"
    for name, deployment in of_kind("Deployment", which).items():
        if name not in scalers:
            assert deployment["spec"]["replicas"] >= 1, name


@pytest.mark.parametrize("which", SETS)
def test_each_ingress_routes_pages_and_api_and_hides_metrics_docs_probes_internal(
    which: str,
) -> None:
    ingresses = of_kind("Ingress", which)
    assert set(ingresses) == {f"iris-{s}" for s in design().services}
    for name, ingress in ingresses.items():
        assert ingress["spec"]["tls"][0]["secretName"], name
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
        paths = {(p["path"], p["pathType"]) for p in rule["http"]["paths"]}
        assert ("/v1", "Prefix") in paths, name
        for path, kind in paths:
            assert not any(path == h or path.startswith(h + "/") for h in HIDDEN), path
            assert kind == "Prefix" or path == "/", (name, path)
        if name != "iris-enrolment":
            assert {("/", "Exact"), ("/auth", "Prefix"), ("/static", "Prefix")} <= paths, name
        backends = {p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
        assert backends == {name}


@pytest.mark.parametrize("which", SETS)
def test_network_policies_deny_by_default_and_admit_only_the_viewer_api_to_reports(
    which: str,
) -> None:
    policies = of_kind("NetworkPolicy", which)
    deny = policies["iris-default-deny"]["spec"]
    assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny and "egress" not in deny
    pods = {n: labels(d) for n, d in of_kind("Deployment", which).items()}
    pods |= {n: labels(j) for n, j in of_kind("Job", which).items()}
    for name, pod in pods.items():
        mine = [p for p in policies.values() if selects(p["spec"]["podSelector"], pod)]
        assert all(sorted(p["spec"]["policyTypes"]) == ["Egress", "Ingress"] for p in mine)
        assert len(mine) == 2, f"{name}: the default deny and its own policy"

    def admitted(target: str) -> list[dict[str, Any]]:
        """The peers inside the namespace that may connect to `target`'s pods."""
        own = [p for p in policies.values() if selects(p["spec"]["podSelector"], pods[target])]
        return [
            peer
            for policy in own
            for rule in policy["spec"].get("ingress", [])
            for peer in rule["from"]
            if "namespaceSelector" not in peer
        ]

    reports_peers = admitted("iris-reports")
    assert [
        n for n, pod in pods.items() if any(selects(p["podSelector"], pod) for p in reports_peers)
    ] == ["iris-viewer"]
    for worker in ("iris-viewer-worker", "iris-enrolment-worker"):
        assert not admitted(worker)

    def may_reach(source: str, target: str) -> bool:
        own = [p for p in policies.values() if selects(p["spec"]["podSelector"], pods[source])]
        return any(
            "podSelector" in peer and selects(peer["podSelector"], pods[target])
            for policy in own
            for rule in policy["spec"].get("egress", [])
            for peer in rule["to"]
            if "namespaceSelector" not in peer
        )

    assert may_reach("iris-viewer", "iris-reports")
    assert not may_reach("iris-viewer-worker", "iris-reports")
    assert not may_reach("iris-enrolment", "iris-reports")
    assert may_reach("iris-enrolment", "iris-access")  # the client tokens' JWKS
    for name in pods:
        own = [p for p in policies.values() if selects(p["spec"]["podSelector"], pods[name])]
        egress = [r for p in own for r in p["spec"].get("egress", [])]
        ports = {port["port"] for rule in egress for port in rule["ports"]}
        assert 53 in ports, name
        if "migrate" in name:
            assert ports == {53, 5432}, name
        if name == "iris-viewer-worker":  # Kafka and Redis, no database
            assert 5432 not in ports and 6379 in ports, name


def test_secrets_are_referenced_as_files_and_never_inlined_or_created() -> None:
    assert not of_kind("Secret") and not of_kind("ConfigMap")
    for workload in [*of_kind("Deployment").values(), *of_kind("Job").values()]:
        env = environment(workload)
        assert env["IRIS_SECRETS_DIR"] == "/run/secrets"
        assert not [k for k in env if SECRET_LIKE.search(k) and not k.endswith("_FILE")]
        mounts = {m["name"]: m for m in pod_spec(workload)["containers"][0]["volumeMounts"]}
        if secret_files(workload):
            assert mounts["secrets"]["mountPath"] == "/run/secrets"
            assert mounts["secrets"]["readOnly"] is True
    viewer = of_kind("Deployment")["iris-viewer"]
    assert {"IRIS_SERVICE_CLIENT_ID", "IRIS_SERVICE_CLIENT_SECRET", "IRIS_REDIS_URL"} <= set(
        secret_files(viewer)
    )
    worker = of_kind("Deployment")["iris-viewer-worker"]
    assert set(secret_files(worker)) == {"IRIS_REDIS_URL"}
    for name in ("iris-reports", "iris-access", "iris-viewer"):
        deployment = of_kind("Deployment")[name]
        assert "IRIS_SESSION_SECRET" in secret_files(deployment), name
        env = environment(deployment)
        assert env["IRIS_ACCESS_URL"].startswith("https://")
        assert env["IRIS_VIEWER_URL"].startswith("https://")
        assert env["IRIS_FORWARDED_ALLOW_IPS"]


def test_the_prometheus_rule_carries_exactly_the_alerts_of_deploy_prometheus() -> None:
    alerts = yaml.safe_load(ALERTS.read_text())
    assert (CHART / "files" / "alerts.yml").read_text() == ALERTS.read_text()
    (rule,) = of_kind("PrometheusRule").values()
    assert rule["spec"]["groups"] == alerts["groups"]
    (monitor,) = of_kind("PodMonitor").values()
    ports = {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]}
    assert ports == {"http", "metrics"}
    for deployment in of_kind("Deployment").values():
        assert selects(monitor["spec"]["selector"], labels(deployment))
        names = {p["name"] for p in pod_spec(deployment)["containers"][0]["ports"]}
        assert names & ports
    # `up{job=~"iris.*"}` in IrisServiceDown needs the jobs named iris-…
    replacements = {
        r["replacement"]
        for e in monitor["spec"]["podMetricsEndpoints"]
        for r in e["relabelings"]
        if r["targetLabel"] == "job"
    }
    assert replacements == {"iris-$1", "iris-$1-worker"}
