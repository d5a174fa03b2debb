"""The deployment files: validated with the tools operators use, and checked against the design.

No Docker engine or cluster is needed: Docker Compose validates and renders the compose
file offline, hadolint lints the Dockerfile, and kubernetes-validate checks the manifests
against the Kubernetes schemas it ships.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from iris.contracts import ACCESS_GRANTS, TOPICS
from tests.deploy.design import ROOT, design

COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
COMPOSE_SCHEMA = ROOT / "deploy" / "schemas" / "compose-spec.json"
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
KUBERNETES_VERSION = "1.30.0"
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|cc|make|build-essential|clang|cargo|rustc|libpq-dev|python3?-dev)\b"
)


def tool(name: str) -> str:
    """A validator installed by the project's test extras, next to this interpreter."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is missing: install the project with its test extras"
    return found


def compose(
    *args: str, env_file: Path | None = COMPOSE_ENV_EXAMPLE
) -> subprocess.CompletedProcess[str]:
    """`docker-compose` on the project's file, with only a neutral environment."""
    command = [tool("docker-compose"), "-f", str(COMPOSE_FILE)]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@cache
def rendered_compose() -> dict[str, Any]:
    """The compose file as Docker Compose resolves it (anchors merged, variables filled in)."""
    result = compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@cache
def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(KUBERNETES_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((path.name, document))
    return found


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in manifests() if d["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped) by stage."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    result: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


# --- docker-compose.yml -------------------------------------------------------------------


def test_docker_compose_accepts_the_compose_file_once_every_secret_is_given() -> None:
    result = compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_stops_with_a_message_naming_each_missing_secret() -> None:
    result = compose("config", "--quiet", env_file=None)
    assert result.returncode != 0
    for variable in (
        "IRIS_OIDC_ISSUER",
        "POSTGRES_PASSWORD",
        "ENROLMENT_DB_PASSWORD",
        "REPORTS_DB_PASSWORD",
        "ACCESS_DB_PASSWORD",
        "VIEWER_DB_PASSWORD",
        "REDIS_PASSWORD",
        "IRIS_ACCESS_SIGNING_KEY_FILE",
        "IRIS_VIEWER_SERVICE_TOKEN",
    ):
        assert f"set {variable}" in result.stderr, variable


def test_compose_file_matches_the_compose_specification_schema() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: e.path
    )
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_vendored_compose_schema_is_the_one_docker_compose_itself_embeds() -> None:
    binary = Path(tool("docker-compose")).read_bytes()
    marker = binary.find(b'"$id": "compose_spec.json"')
    assert marker > 0, "the installed docker-compose no longer embeds its schema"
    start = binary.rfind(b"{", 0, marker)
    embedded, _ = json.JSONDecoder().raw_decode(binary[start:].decode("utf-8", "replace"))
    assert embedded == json.loads(COMPOSE_SCHEMA.read_text())


def test_compose_runs_kafka_in_kraft_mode_with_postgresql_and_redis() -> None:
    services = rendered_compose()["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert "KAFKA_ZOOKEEPER_CONNECT" not in kafka["environment"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    init_scripts = [v for v in services["postgres"]["volumes"] if "initdb" in v["target"]]
    assert init_scripts, "PostgreSQL needs the script that creates one database per service"
    script = Path(init_scripts[0]["source"]).read_text()
    for service in design().services:
        assert re.search(rf"^create {service} ", script, re.MULTILINE), service


def test_compose_runs_every_service_api_worker_and_migration_of_the_design() -> None:
    services = rendered_compose()["services"]
    commands = {name: s.get("command") or [] for name, s in services.items()}
    for service in design().services:
        api = [n for n, c in commands.items() if c[:2] == ["api", service]]
        migrate = [n for n, c in commands.items() if c[:2] == ["migrate", service]]
        assert len(api) == 1, f"one API container for {service}"
        assert len(migrate) == 1, f"one migration job for {service}"
        depends = services[api[0]]["depends_on"]
        assert depends[migrate[0]]["condition"] == "service_completed_successfully"
        assert depends["topics"]["condition"] == "service_completed_successfully"
        url = services[migrate[0]]["environment"]["IRIS_DATABASE_URL"]
        assert services[api[0]]["environment"]["IRIS_DATABASE_URL"] == url
        assert url.startswith("postgresql://") and url.endswith(f"/{service}")
        workers = [n for n, c in commands.items() if c[:2] == ["worker", service]]
        assert len(workers) == (1 if service in design().consumers else 0), service
        for worker in workers:
            assert services[worker]["environment"]["IRIS_DATABASE_URL"] == url
            assert services[worker]["environment"]["IRIS_WORKER_METRICS_PORT"]


def test_compose_creates_the_topics_with_iris_topics_after_kafka_is_healthy() -> None:
    topics = rendered_compose()["services"]["topics"]
    assert topics["command"] == ["topics"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_every_long_running_compose_container_has_a_health_check() -> None:
    for name, service in rendered_compose()["services"].items():
        one_shot = service.get("restart") == "no"
        check = service.get("healthcheck") or {}
        if one_shot:
            continue
        assert check.get("test") and not check.get("disable"), name
        if (service.get("command") or [""])[0] in ("api", "worker"):
            assert service["environment"]["IRIS_HEALTH_URL"].endswith("/healthz"), name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition["condition"] in (
                "service_healthy",
                "service_completed_successfully",
            ), f"{name} -> {dependency}"


def test_every_iris_container_runs_in_production_with_idempotent_producers() -> None:
    for name, service in rendered_compose()["services"].items():
        if service.get("image", "").startswith(("apache/", "postgres", "redis")):
            continue
        env = service["environment"]
        assert env["IRIS_ENV"] == "production", name
        assert env["IRIS_KAFKA_IDEMPOTENCE"] == "true", name
        assert service.get("read_only") is True, name


# --- Dockerfile ---------------------------------------------------------------------------


def test_hadolint_finds_nothing_to_fix_in_the_dockerfile() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_final_image_is_slim_runs_as_a_user_and_holds_no_build_tools() -> None:
    built = stages(DOCKERFILE.read_text())
    assert len(built) >= 2, "a builder stage and a runtime stage"
    final = built[-1]
    assert re.match(r"FROM python:3\.11-slim\b", final[0])
    users = [line.split(None, 1)[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for line in final:
        if line.upper().startswith(("RUN ", "COPY ", "ADD ")):
            assert not BUILD_TOOLS.search(line), line
        if line.upper().startswith("COPY --FROM"):
            assert line.split()[-2:] == ["/opt/iris", "/opt/iris"], line
    assert 'ENTRYPOINT ["iris"]' in final
    assert any(line.startswith("HEALTHCHECK ") for line in final)
    builder = " ".join(built[0])
    assert "--no-cache-dir" in builder, "no pip cache in the venv that is copied"


def test_the_docker_build_context_holds_only_the_project_source() -> None:
    rules = [
        r.strip()
        for r in (ROOT / ".dockerignore").read_text().splitlines()
        if r.strip() and not r.startswith("#")
    ]
    assert rules[0] == "*"
    assert {r for r in rules if r.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!iris/",
        "!services/",
    }


# --- Kubernetes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, document",
    manifests(),
    ids=[f"{file}:{d['kind']}/{d['metadata']['name']}" for file, d in manifests()],
)
def test_kubernetes_manifest_is_valid_against_the_kubernetes_schemas(
    name: str, document: dict[str, Any]
) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES_DIR / "kustomization.yaml").read_text())
    files = {p.name for p in KUBERNETES_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_kubernetes_runs_every_service_api_worker_and_migration_of_the_design() -> None:
    deployments = of_kind("Deployment")
    jobs = of_kind("Job")

    def args(workload: dict[str, Any]) -> list[str]:
        return list(pod_spec(workload)["containers"][0]["args"])

    for service in design().services:
        apis = [d for d in deployments.values() if args(d)[:2] == ["api", service]]
        assert len(apis) == 1, service
        workers = [d for d in deployments.values() if args(d)[:2] == ["worker", service]]
        assert len(workers) == (1 if service in design().consumers else 0), service
        migrations = [j for j in jobs.values() if args(j)[:2] == ["migrate", service]]
        assert len(migrations) == 1, service
        for workload in apis + workers + migrations:
            env = {e["name"]: e for e in pod_spec(workload)["containers"][0]["env"]}
            ref = env["IRIS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == f"iris-{service}-database"
    assert [args(j) for j in jobs.values() if args(j)[:1] == ["topics"]] == [["topics"]]


def test_kubernetes_probes_readiness_and_liveness_and_bounds_resources() -> None:
    for name, deployment in of_kind("Deployment").items():
        for container in pod_spec(deployment)["containers"]:
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
    for workload in [*of_kind("Deployment").values(), *of_kind("Job").values()]:
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            name = f"{workload['metadata']['name']}/{container['name']}"
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name


def test_kubernetes_configuration_runs_production_with_idempotence() -> None:
    config = of_kind("ConfigMap")["iris-config"]["data"]
    assert config["IRIS_ENV"] == "production"
    assert config["IRIS_KAFKA_IDEMPOTENCE"] == "true"


def test_kubernetes_secrets_are_referenced_and_never_inlined() -> None:
    assert not of_kind("Secret"), "Secrets are created by the operator, not kept in the repo"
    secret_like = re.compile(r"PASSWORD|TOKEN|SECRET|DATABASE_URL|REDIS_URL")
    config = of_kind("ConfigMap")["iris-config"]["data"]
    assert not [k for k in config if secret_like.search(k)]
    for workload in [*of_kind("Deployment").values(), *of_kind("Job").values()]:
        for container in pod_spec(workload)["containers"]:
            for env in container.get("env", []):
                if secret_like.search(env["name"]):
                    assert "secretKeyRef" in env.get("valueFrom", {}), env["name"]


def test_the_viewer_has_a_disruption_budget_and_an_autoscaler() -> None:
    budget = of_kind("PodDisruptionBudget")["viewer"]
    viewer_labels = of_kind("Deployment")["viewer"]["spec"]["selector"]["matchLabels"]
    assert budget["spec"]["selector"]["matchLabels"] == viewer_labels
    scaler = of_kind("HorizontalPodAutoscaler")["viewer"]
    assert scaler["spec"]["scaleTargetRef"]["name"] == "viewer"
    assert scaler["spec"]["minReplicas"] >= 2


def test_only_the_viewer_and_the_ingress_reach_the_reports_service() -> None:
    policies = of_kind("NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and "ingress" not in deny
    reports_pods = of_kind("Deployment")["reports"]["spec"]["template"]["metadata"]["labels"]
    port = 8102

    def selects(policy: dict[str, Any]) -> bool:
        wanted = policy["spec"]["podSelector"].get("matchLabels", {})
        return all(reports_pods.get(k) == v for k, v in wanted.items())

    sources = []
    for name, policy in policies.items():
        if not selects(policy):
            continue
        for rule in policy["spec"].get("ingress", []):
            if any(p["port"] == port for p in rule.get("ports", [])):
                sources += [(name, s) for s in rule["from"]]
    in_namespace = [s for _, s in sources if "namespaceSelector" not in s]
    assert in_namespace == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "viewer"}}}]
    outside = [s["namespaceSelector"]["matchLabels"] for _, s in sources if s not in in_namespace]
    # The ingress controller (which routes /v1 only, below) and Prometheus (/metrics shares
    # the port) are the only other namespaces; /internal also demands the viewer's token.
    assert sorted(o["kubernetes.io/metadata.name"] for o in outside) == [
        "ingress-nginx",
        "monitoring",
    ]
    for rule in of_kind("Ingress")["iris"]["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            if path["backend"]["service"]["name"] == "reports":
                assert path["path"] == "/v1" and path["pathType"] == "Prefix"


# --- the topics ---------------------------------------------------------------------------


def test_iris_topics_knows_every_topic_of_the_design_and_compacts_the_grants() -> None:
    registered = {t.name: t for t in TOPICS}
    assert set(design().topics) <= set(registered)
    assert registered[ACCESS_GRANTS.name].compacted
    assert [t.name for t in TOPICS if t.compacted] == ["iris.access.grants"]


def test_the_docker_build_context_installs_every_source_file_and_migration(
    tmp_path: Path,
) -> None:
    """Build the wheel from exactly what .dockerignore lets in, as `pip install .` does."""
    import zipfile

    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("iris", "services"):
        shutil.copytree(ROOT / name, context / name, ignore=ignore)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            str(context),
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("iris-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        str(p.relative_to(context))
        for name in ("iris", "services")
        for p in (context / name).rglob("*")
        if p.is_file()
    }
    assert sources - packaged == set()
    for service in design().services:
        if (context / "services" / service / "api.py").exists():
            assert f"services/{service}/migrations/env.py" in packaged, service
