"""The deployment files: validated with the tools operators use, and checked against the design.

No Docker engine is needed: Docker Compose validates and renders the compose file offline
and hadolint lints the Dockerfile. The Helm chart has its own checks (test_helm_chart.py).
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
import yaml

from iris.contracts import ACCESS_GRANTS, TOPICS
from tests.deploy.design import ROOT, design

COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_SCHEMA = ROOT / "deploy" / "schemas" / "compose-spec.json"
CADDYFILE = ROOT / "deploy" / "compose" / "Caddyfile"
DOCKERFILE = ROOT / "Dockerfile"
INFRASTRUCTURE_IMAGES = ("apache/", "postgres", "redis", "caddy")
# never published: metrics, probe details, the API explorer, report content for the viewer
HIDDEN_PATHS = ("/metrics", "/internal", "/readyz", "/healthz", "/docs", "/redoc", "/openapi.json")
SECRET_LIKE = re.compile(r"PASSWORD|TOKEN|SECRET(?!S_DIR)|DATABASE_URL|REDIS_URL")
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


def iris_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in rendered_compose()["services"].items()
        if not service.get("image", "").startswith(INFRASTRUCTURE_IMAGES)
    }


def mounted_secrets(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's secrets: file name under /run/secrets -> the secret's name."""
    return {
        (s.get("target") or s["source"]).removeprefix("/run/secrets/"): s["source"]
        for s in service.get("secrets", [])
    }


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


def test_compose_stops_with_a_message_naming_each_missing_variable() -> None:
    result = compose("config", "--quiet", env_file=None)
    assert result.returncode != 0
    required = set(re.findall(r"\$\{(IRIS_\w+):\?", COMPOSE_FILE.read_text()))
    assert {"IRIS_OIDC_ISSUER", "IRIS_VIEWER_HOST", "IRIS_KAFKA_EXTERNAL_HOST"} <= required
    for variable in required:
        assert f"set {variable}" in result.stderr, variable
    example = COMPOSE_ENV_EXAMPLE.read_text()
    for variable in required:
        assert re.search(rf"^{variable}=.+", example, re.MULTILINE), variable


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
    mounted = {s["source"] for s in services["postgres"]["secrets"]}
    for service in design().services:
        assert re.search(rf"^create {service}$", script, re.MULTILINE), service
        # the role's password is the one in the service's database URL
        assert f"{service}_database_url" in mounted, service


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
        database = f"{service}_database_url"
        assert mounted_secrets(services[migrate[0]])["IRIS_DATABASE_URL"] == database
        assert mounted_secrets(services[api[0]])["IRIS_DATABASE_URL"] == database
        workers = [n for n, c in commands.items() if c[:2] == ["worker", service]]
        assert len(workers) == (1 if service in design().consumers else 0), service
        for worker in workers:
            if service != "viewer":  # the viewer's worker keeps its state in Redis only
                assert mounted_secrets(services[worker])["IRIS_DATABASE_URL"] == database
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
    for name, service in iris_services().items():
        env = service["environment"]
        assert env["IRIS_ENV"] == "production", name
        assert env["IRIS_KAFKA_IDEMPOTENCE"] == "true", name
        assert env["IRIS_SECRETS_DIR"] == "/run/secrets", name
        assert service.get("read_only") is True, name


def test_every_secret_reaches_the_services_as_a_file_never_as_a_variable() -> None:
    config = rendered_compose()
    declared = set(config["secrets"])
    for name, service in config["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if variable.endswith("_FILE"):  # a path, as POSTGRES_PASSWORD_FILE
                assert str(value).startswith("/run/secrets/"), f"{name}: {variable}"
                continue
            assert not SECRET_LIKE.search(variable), f"{name}: {variable}"
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", str(value)), f"{name}: {variable}"
        for secret in service.get("secrets", []):
            assert secret["source"] in declared, f"{name}: {secret['source']}"
    for name, service in iris_services().items():
        files = mounted_secrets(service)
        # a file named like the variable, read through IRIS_SECRETS_DIR
        assert all(t.startswith("IRIS_") or t.endswith(".pem") for t in files), name
    viewer = mounted_secrets(config["services"]["viewer"])
    assert {"IRIS_SERVICE_CLIENT_ID", "IRIS_SERVICE_CLIENT_SECRET", "IRIS_REDIS_URL"} <= set(viewer)
    for page_service in ("reports", "access", "viewer"):
        assert "IRIS_SESSION_SECRET" in mounted_secrets(config["services"][page_service])
    access = config["services"]["access"]
    key_file = access["environment"]["IRIS_ACCESS_SIGNING_KEY_FILE"]
    assert key_file == "/run/secrets/" + next(
        t for t in mounted_secrets(access) if t.endswith(".pem")
    )


def test_the_operations_guide_explains_every_compose_secret() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    for secret in rendered_compose()["secrets"]:
        assert f"`secrets/{secret}`" in guide, secret


def test_the_redis_password_is_read_from_its_secret_not_given_on_a_command_line() -> None:
    redis = rendered_compose()["services"]["redis"]
    command = " ".join(redis["command"])
    assert "requirepass" in command and "/run/secrets/redis_password" in command
    assert "--requirepass" not in command
    assert not redis.get("environment")


def test_only_the_tls_proxy_and_the_school_systems_kafka_listener_publish_ports() -> None:
    services = rendered_compose()["services"]
    published = {n: s["ports"] for n, s in services.items() if s.get("ports")}
    assert set(published) == {"proxy", "kafka"}
    assert sorted(p["target"] for p in published["proxy"]) == [80, 443]
    assert [p["target"] for p in published["kafka"]] == [9094]
    kafka = services["kafka"]["environment"]
    protocols = dict(
        pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert protocols["EXTERNAL"] == "SASL_SSL"
    assert "EXTERNAL://:9094" in kafka["KAFKA_LISTENERS"]
    assert "kafka_jaas.conf" in kafka["KAFKA_OPTS"]


def test_the_proxy_serves_tls_from_the_mounted_certificates_and_hides_internal_paths() -> None:
    proxy = rendered_compose()["services"]["proxy"]
    mounts = {v["target"]: v for v in proxy["volumes"]}
    assert mounts["/certs"]["read_only"] is True
    assert Path(mounts["/etc/caddy/Caddyfile"]["source"]) == CADDYFILE
    caddy = CADDYFILE.read_text()
    assert "tls /certs/tls.crt /certs/tls.key" in caddy
    hidden = re.search(r"@hidden path (.+)", caddy)
    assert hidden is not None
    for path in HIDDEN_PATHS:
        assert path in hidden.group(1).split(), path
    for service, port in (("enrolment", 8101), ("reports", 8102), ("access", 8103)):
        assert f"dynamic a {service} {port}" in caddy, service
    assert "dynamic a viewer 8104" in caddy
    for name, service in iris_services().items():
        if (service.get("command") or [""])[0] == "api":
            env = service["environment"]
            assert env["IRIS_FORWARDED_ALLOW_IPS"], name
            assert env["IRIS_ACCESS_URL"].startswith("https://"), name
            assert env["IRIS_VIEWER_URL"].startswith("https://"), name


def test_git_never_takes_an_operators_env_file_secrets_or_certificates() -> None:
    for path in (".env", "secrets/session_secret", "certs/tls.key"):
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True, check=False
        )
        assert ignored.returncode == 0, path


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
    # bytecode in the image: a read-only root file system cannot take it at start
    assert "compileall" in builder and "--invalidation-mode unchecked-hash" in builder


def test_the_docker_build_context_holds_only_the_project_source() -> None:
    rules = [
        r.strip()
        for r in (ROOT / ".dockerignore").read_text().splitlines()
        if r.strip() and not r.startswith("#")
    ]
    assert rules[0] == "*"
    assert {r for r in rules if r.startswith("!")} == {
        "!pyproject.toml",
        "!requirements.lock",
        "!README.md",
        "!iris/",
        "!services/",
    }


# --- the topics ---------------------------------------------------------------------------


def test_iris_topics_knows_every_topic_of_the_design_and_compacts_the_change_topics() -> None:
    """The change topics keep each key's latest state (docs/privacy.md): the grants, the
    enrolments, the report versions and the support requests; the record of views keeps
    each view and denial until its tombstone or its retention period."""
    registered = {t.name: t for t in TOPICS}
    assert set(design().topics) <= set(registered)
    assert registered[ACCESS_GRANTS.name].compacted
    assert sorted(t.name for t in TOPICS if t.compacted) == [
        "iris.access.grants",
        "iris.access.support-requests",
        "iris.enrolment.changes",
        "iris.report.changes",
        "iris.viewer.audit",
    ]


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


def test_the_school_system_example_speaks_sasl_ssl_to_the_compose_listener(monkeypatch) -> None:
    import importlib.util

    from kafka import KafkaProducer

    spec = importlib.util.spec_from_file_location(
        "school_system", ROOT / "examples" / "school_system.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.connection("k:9094") == {
        "bootstrap_servers": "k:9094",
        "security_protocol": "PLAINTEXT",
    }
    listener = rendered_compose()["services"]["kafka"]["environment"]
    mechanisms = listener["KAFKA_LISTENER_NAME_EXTERNAL_SASL_ENABLED_MECHANISMS"].split(",")
    for name, value in {
        "IRIS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "IRIS_KAFKA_SASL_MECHANISM": mechanisms[0],
        "IRIS_KAFKA_SASL_USERNAME": "school-software-1",
        "IRIS_KAFKA_SASL_PASSWORD": "pw",
    }.items():
        monkeypatch.setenv(name, value)
    settings = example.connection("k:9094")
    assert set(settings) <= set(KafkaProducer.DEFAULT_CONFIG)
    assert settings["security_protocol"] == "SASL_SSL"
    assert settings["sasl_mechanism"] in mechanisms
