"""The compose file's TLS proxy: Caddy itself (`caddy adapt`) reads deploy/compose/Caddyfile
with the compose environment; each public host answers 404 for the hidden paths before it
proxies, to every replica of its service, with the mounted certificate."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.deploy.helm import tool
from tests.deploy.test_deployment_files import CADDYFILE, HIDDEN_PATHS, rendered_compose

PORTS = {"enrolment": 8101, "reports": 8102, "access": 8103, "viewer": 8104}


@pytest.fixture(scope="module")
def adapted() -> dict[str, Any]:
    proxy = rendered_compose()["services"]["proxy"]
    env = {k: str(v) for k, v in proxy["environment"].items()}
    done = subprocess.run(
        [tool("caddy"), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": "/tmp", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def routes_by_host(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for server in config["apps"]["http"]["servers"].values():
        for route in server["routes"]:
            hosts = [h for m in route.get("match", []) for h in m.get("host", [])]
            inner = [r for h in route["handle"] for r in h.get("routes", [])]
            for host in hosts:
                found.setdefault(host, []).extend(inner)
    return found


def test_every_service_host_hides_internal_paths_then_proxies_to_all_replicas(
    adapted: dict[str, Any],
) -> None:
    proxy_env = rendered_compose()["services"]["proxy"]["environment"]
    by_host = routes_by_host(adapted)
    for service, port in PORTS.items():
        host = proxy_env[f"IRIS_{service.upper()}_HOST"]
        routes = by_host[host]
        handlers = [(r, h) for r in routes for h in r["handle"]]
        hidden = [
            r
            for r, h in handlers
            if h["handler"] == "static_response" and str(h.get("status_code")) == "404"
        ]
        assert hidden, host
        paths = {p for r in hidden for m in r["match"] for p in m.get("path", [])}
        assert set(HIDDEN_PATHS) <= paths, host
        proxies = [h for _, h in handlers if h["handler"] == "reverse_proxy"]
        assert len(proxies) == 1, host
        upstreams = proxies[0]["dynamic_upstreams"]
        assert (upstreams["source"], upstreams["name"], str(upstreams["port"])) == (
            "a",
            service,
            str(port),
        )
        position = [h["handler"] for _, h in handlers]
        assert position.index("static_response") < position.index("reverse_proxy"), host


def test_the_certificate_comes_from_the_mounted_folder(adapted: dict[str, Any]) -> None:
    loaded = adapted["apps"]["tls"]["certificates"]["load_files"]
    assert {(c["certificate"], c["key"]) for c in loaded} == {("/certs/tls.crt", "/certs/tls.key")}
