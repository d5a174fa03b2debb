"""Each part of the shipped deployments starts with exactly its own environment and secrets
and becomes ready, and the golden path runs through them: the services of docker-compose.yml,
and the Deployments and hook Jobs the Helm chart renders (tests/deploy/stack.py says what is
emulated). The infrastructure is the tests': PostgreSQL, Redis and a Kafka-protocol broker of
its own."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml
from kafka import KafkaProducer

from iris import infra as local
from iris.auth import SigningKey
from iris.insz import make_insz
from iris.registry import available
from tests.deploy.helm import CHART, KUBERNETES_VERSION, VALUES, tool
from tests.deploy.stack import LocalStack, Part, free_port
from tests.deploy.test_deployment_files import INFRASTRUCTURE_IMAGES, compose
from tests.infra import Infrastructure
from tests.support import Issuer, wait_until

pytestmark = pytest.mark.integration

SERVICES = ("enrolment", "reports", "access", "viewer")
WORKERS = tuple(f"{spec.name}-worker" for spec in available() if spec.has_worker)
SCHOOL, CLB = "310001", "113002"
RESPONSIBLE = make_insz("1971-02-03", 31)
TEACHER = make_insz("1984-05-06", 32)
CLB_STAFF = make_insz("1979-08-09", 33)
PUPIL = make_insz("2016-01-02", 34)
ADVICE = "Advies: een visueel dagschema en een rustige plek."


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A broker of its own: the parts' consumer groups and topics meet nobody else's."""
    process = local.start_broker(free_port(), tmp_path / "broker")
    try:
        yield process.url
    finally:
        process.stop()


def cluster_secrets(infra: Infrastructure, redis_index: int) -> dict[str, str]:
    """What an operator puts in the secrets, pointing at the tests' infrastructure."""
    redis_url = re.sub(r"/\d+$", "", infra.redis_url.rstrip("/")) + f"/{redis_index}"
    redis.Redis.from_url(redis_url).flushdb()
    values = {f"{s}_database_url": infra.database_url(s, migrated=False) for s in SERVICES}
    return values | {
        "redis_url": redis_url,
        "session_secret": secrets.token_urlsafe(32),
        "access_signing_key.pem": SigningKey.generate().private_pem.decode(),
    }


def register_viewer(stack: LocalStack, access: Part) -> tuple[str, str]:
    """`iris clients add --service viewer` in the access service's container."""
    done = stack.run(
        Part(
            access.name,
            ["clients", "add", "--service", "viewer"],
            access.env,
            access.secrets,
            access.port,
        )
    )
    assert done.returncode == 0, done.stderr
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return printed["IRIS_SERVICE_CLIENT_ID"], printed["IRIS_SERVICE_CLIENT_SECRET"]


def bring_up(
    stack: LocalStack,
    jobs: list[Part],
    parts: Callable[[], dict[str, Part]],
    viewer_client: Callable[[str, str], None],
) -> dict[str, str]:
    """Jobs to completion, the services ready, the viewer's client registered; base URLs."""
    for job in jobs:
        done = stack.run(job)
        assert done.returncode == 0, f"{job.name}: {done.stderr[-3000:]}"
    for part in parts().values():
        if part.is_api:  # every API's address is known before anything starts
            stack.expose(f"{part.name}:{part.port}")
    first = {n: p for n, p in parts().items() if "viewer" not in n}
    urls = {n: stack.start(p) for n, p in first.items()}
    for name in first:
        stack.wait_ready(name)
    access = next(p for p in first.values() if p.is_api and p.args[1] == "access")
    viewer_client(*register_viewer(stack, access))
    rest = {n: p for n, p in parts().items() if "viewer" in n}
    urls |= {n: stack.start(p) for n, p in rest.items()}
    for name in rest:
        stack.wait_ready(name)
    for name, part in parts().items():
        if "IRIS_HEALTH_URL" in part.env:  # the image's HEALTHCHECK, as Compose runs it
            probe = stack.run(Part(name, ["probe"], part.env, part.secrets, part.port))
            assert probe.returncode == 0, f"{name}: {probe.stderr}"
    return urls


def school_software_token(http: httpx.Client, access: str, responsible: dict[str, str]) -> str:
    """The school responsible registers a client; the client gets a token by its secret."""
    client = http.post(
        f"{access}/v1/schools/{SCHOOL}/clients", json={"name": "admin"}, headers=responsible
    )
    assert client.status_code == 201, client.text
    issued = http.post(
        f"{access}/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.json()["client_id"],
            "client_secret": client.json()["client_secret"],
        },
    )
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


def enrol_over_kafka(kafka: str, school_token: str) -> None:
    event = {
        "type": "EnrolmentRegistered",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-09-01T07:00:00Z",
        "pupil_id": PUPIL,
        "school_id": SCHOOL,
        "start_date": "2026-09-01",
        "display_name": "Pad Gouden",
        "source": "deploy-test",
    }
    producer = KafkaProducer(bootstrap_servers=kafka, acks="all")
    producer.send(
        "iris.enrolment.submitted",
        key=PUPIL.encode(),
        value=json.dumps(event).encode(),
        headers=[("authorization", f"Bearer {school_token}".encode())],
    )
    producer.flush(30)
    producer.close()


def golden_path(api: dict[str, str], kafka: str, issuer: Issuer) -> None:
    """A school client enrols a pupil over Kafka, the CLB issues a report, the responsible
    grants a teacher, and the teacher reads the report in the viewer."""
    responsible = issuer.headers(RESPONSIBLE, school_admin_of=[SCHOOL])
    with httpx.Client(timeout=15) as http:
        school_token = school_software_token(http, api["access"], responsible)
        enrol_over_kafka(kafka, school_token)
        report = http.post(
            f"{api['reports']}/v1/pupils/{PUPIL}/reports",
            headers=issuer.headers(CLB_STAFF, clb_staff_of=[CLB]),
            json={
                "kind": "IAC",
                "clb_id": CLB,
                "valid_from": "2026-09-01",
                "type": "9",
                "level": "primary",
                "content": {
                    "needs": "Nood aan voorspelbaarheid.",
                    "advice": ADVICE,
                    "measures_taken": "Koptelefoon.",
                    "reasoning": "Volstaat niet.",
                },
            },
        )
        assert report.status_code == 201, report.text
        grant = http.post(
            f"{api['access']}/v1/schools/{SCHOOL}/grants",
            headers=responsible,
            json={"person_id": TEACHER, "role": "teacher", "valid_from": "2026-09-01"},
        )
        assert grant.status_code == 200, grant.text
        teacher = issuer.headers(TEACHER, name="Leraar")

        def shown() -> bool:
            page = http.get(f"{api['viewer']}/pupils/{PUPIL}/report", headers=teacher)
            return page.status_code == 200 and ADVICE in page.text

        wait_until(shown, timeout=120, interval=0.5, message="the teacher to see the report")
        listed = http.get(
            f"{api['viewer']}/v1/schools/{SCHOOL}/pupils-with-report",
            headers={"Authorization": f"Bearer {school_token}"},
        )
        assert [p["pupil_id"] for p in listed.json()["pupils"]] == [PUPIL]


# --- docker-compose.yml ---------------------------------------------------------------------


def compose_config(env_file: Path) -> dict[str, Any]:
    done = compose("config", "--format", "json", env_file=env_file)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def compose_part(config: dict[str, Any], name: str) -> Part:
    service = config["services"][name]
    command = list(service["command"])
    env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
    files = {}
    for secret in service.get("secrets", []):
        target = (secret.get("target") or secret["source"]).removeprefix("/run/secrets/")
        files[target] = Path(config["secrets"][secret["source"]]["file"]).read_text()
    port = None
    if command[0] == "api":
        port = int(command[command.index("--port") + 1])
    elif "IRIS_WORKER_METRICS_PORT" in env:
        port = int(env["IRIS_WORKER_METRICS_PORT"])
    return Part(name, command, env, files, port)


def test_every_compose_service_starts_with_its_own_environment_and_secrets_and_serves(
    infra: Infrastructure, issuer: Issuer, broker: str, tmp_path: Path
) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    for name, value in cluster_secrets(infra, 13).items():
        (folder / name).write_text(value)
    for name in ("viewer_client_id", "viewer_client_secret"):  # until `iris clients add`
        (folder / name).write_text("")
    env_file = tmp_path / ".env"
    hosts = {f"IRIS_{s.upper()}_HOST": f"{s}.iris.test" for s in SERVICES}
    settings = hosts | {
        "IRIS_OIDC_ISSUER": issuer.issuer,
        "IRIS_OIDC_JWKS_URL": issuer.jwks_url,
        "IRIS_KAFKA_EXTERNAL_HOST": "kafka.iris.test",
        "IRIS_SECRETS_FOLDER": str(folder),
        "IRIS_CERTS_DIR": str(tmp_path / "certs"),
    }
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))

    def parts() -> dict[str, Part]:
        config = compose_config(env_file)
        return {
            name: compose_part(config, name)
            for name, service in config["services"].items()
            if not service.get("image", "").startswith(INFRASTRUCTURE_IMAGES)
            and service.get("restart") != "no"
        }

    config = compose_config(env_file)
    jobs = [
        compose_part(config, n) for n, s in config["services"].items() if s.get("restart") == "no"
    ]
    assert sorted(j.name for j in jobs) == ["migrate-" + s for s in sorted(SERVICES)] + ["topics"]

    def viewer_client(client_id: str, secret: str) -> None:
        (folder / "viewer_client_id").write_text(client_id)
        (folder / "viewer_client_secret").write_text(secret)

    with LocalStack(tmp_path / "parts", {"kafka:9092": broker}).running() as stack:
        urls = bring_up(stack, sorted(jobs, key=lambda j: j.name != "topics"), parts, viewer_client)
        assert set(urls) == {*SERVICES, *WORKERS}
        golden_path({s: urls[s] for s in SERVICES}, broker, issuer)


# --- the Helm chart -------------------------------------------------------------------------


def helm_rendered(issuer: Issuer, values: Path | None) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            tool("helm"),
            "template",
            "iris",
            str(CHART),
            "--namespace",
            "iris",
            "--kube-version",
            KUBERNETES_VERSION,
            "--set",
            f"oidc.issuer={issuer.issuer}",
            "--set",
            f"oidc.jwksUrl={issuer.jwks_url}",
            "--set",
            "kafka.bootstrap=kafka:9092",
            *(["-f", str(values)] if values else []),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def helm_part(workload: dict[str, Any], values: dict[tuple[str, str], str]) -> Part:
    spec = workload["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    files = {}
    for volume in spec["volumes"]:
        for source in volume.get("projected", {}).get("sources", []):
            for item in source["secret"]["items"]:
                files[item["path"]] = values[(source["secret"]["name"], item["key"])]
    args = list(container["args"])
    port = int(container["ports"][0]["containerPort"]) if container.get("ports") else None
    return Part(workload["metadata"]["name"], args, env, files, port)


@pytest.mark.parametrize("which", list(VALUES))
def test_every_deployment_and_job_the_chart_renders_starts_and_serves(
    infra: Infrastructure, issuer: Issuer, broker: str, tmp_path: Path, which: str
) -> None:
    made = cluster_secrets(infra, 14)
    values = {(f"iris-{s}-database", "url"): made[f"{s}_database_url"] for s in SERVICES}
    values |= {
        ("iris-redis", "url"): made["redis_url"],
        ("iris-session", "secret"): made["session_secret"],
        ("iris-access-signing-key", "access-signing-key.pem"): made["access_signing_key.pem"],
        ("iris-oidc-client", "secret"): secrets.token_urlsafe(16),  # production values
    }
    rendered = helm_rendered(issuer, VALUES[which])
    jobs = [d for d in rendered if d["kind"] == "Job"]
    deployments = [d for d in rendered if d["kind"] == "Deployment"]

    def parts() -> dict[str, Part]:
        return {
            d["metadata"]["name"]: helm_part(d, values)
            for d in deployments
            if ("iris-viewer-client", "client-id") in values
            or "viewer" not in d["metadata"]["name"]
        }

    def viewer_client(client_id: str, secret: str) -> None:
        values[("iris-viewer-client", "client-id")] = client_id
        values[("iris-viewer-client", "client-secret")] = secret

    hooks = sorted((helm_part(j, values) for j in jobs), key=lambda j: j.args != ["topics"])
    with LocalStack(tmp_path / "parts", {"kafka:9092": broker}).running() as stack:
        urls = bring_up(stack, hooks, parts, viewer_client)
        assert set(urls) == {f"iris-{s}" for s in (*SERVICES, *WORKERS)}
        golden_path({s: urls[f"iris-{s}"] for s in SERVICES}, broker, issuer)
