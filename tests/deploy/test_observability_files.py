"""The alert rules and the operations guide name metrics the services really expose."""

from __future__ import annotations

import importlib
import re
from typing import Any

import yaml
from prometheus_client import REGISTRY, generate_latest

import iris.web
import iris.worker_metrics
from iris.registry import SERVICES
from tests.deploy.design import ROOT

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
# Announced for the viewer; required of it as soon as its API module exists.
VIEWER_METRICS = {"iris_authz_decisions_total", "iris_viewer_cache_ready"}
SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def exposed_metric_names() -> set[str]:
    assert iris.web.HTTP_REQUESTS and iris.worker_metrics.CONSUMER_LAG
    if SERVICES["viewer"].exists:
        importlib.import_module("services.viewer.api")
        importlib.import_module("services.viewer.claims")
    text = generate_latest(REGISTRY).decode()
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        names.add(name)
        if kind == "histogram":
            names |= {name + s for s in SUFFIXES}
    return names


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def named_metrics(expression: str) -> set[str]:
    return set(re.findall(r"\biris_[a-z_]+\b", expression))


def test_every_alert_rule_has_a_duration_a_severity_and_a_summary() -> None:
    for rule in rules():
        assert rule["alert"] and rule["expr"], rule
        assert re.fullmatch(r"\d+[smh]", str(rule["for"])), rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_alerts_use_only_metrics_the_services_expose() -> None:
    exposed = exposed_metric_names()
    pending = set() if SERVICES["viewer"].exists else VIEWER_METRICS
    for rule in rules():
        unknown = named_metrics(str(rule["expr"])) - exposed - pending
        assert not unknown, f"{rule['alert']}: {sorted(unknown)}"


def test_the_operations_guide_explains_every_alert_and_metric() -> None:
    guide = OPERATIONS.read_text()
    for rule in rules():
        assert f"`{rule['alert']}`" in guide, rule["alert"]
        for metric in named_metrics(str(rule["expr"])):
            base = next((metric[: -len(s)] for s in SUFFIXES if metric.endswith(s)), metric)
            assert f"`{base}`" in guide or f"`{metric}`" in guide, metric
    for metric in ("iris_http_requests_total", "iris_outbox_backlog", "iris_consumer_lag"):
        assert f"`{metric}`" in guide
