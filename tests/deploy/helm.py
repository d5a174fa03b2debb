"""The Helm chart rendered by Helm itself (`helm template`), for the checks and the tests that
start what it renders. Helm and kubeconform come from scripts/deploy-tools.sh."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.design import ROOT

CHART = ROOT / "deploy" / "helm" / "iris"
PRODUCTION_VALUES = ROOT / "deploy" / "helm" / "values-production.yaml"
CRD_SCHEMAS = ROOT / "deploy" / "schemas" / "crds"
KUBERNETES_VERSION = "1.30.0"
VALUES = {"default": None, "production": PRODUCTION_VALUES}


def tool(name: str) -> str:
    found = shutil.which(name) or str(ROOT / ".tools" / "bin" / name)
    assert Path(found).exists(), (
        f"{name} is missing: run scripts/deploy-tools.sh (scripts/test does)"
    )
    return found


def kubernetes_schemas() -> Path:
    folder = Path(os.environ.get("IRIS_KUBE_SCHEMAS") or ROOT / ".tools" / "kubernetes-json-schema")
    assert (folder / f"v{KUBERNETES_VERSION}-standalone-strict").is_dir(), (
        f"no Kubernetes schemas in {folder}: run scripts/deploy-tools.sh (scripts/test does)"
    )
    return folder


def helm(*args: str, values: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [tool("helm"), *args, "--kube-version", KUBERNETES_VERSION]
    if values is not None:
        command += ["-f", str(values)]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@cache
def rendered_text(which: str = "default") -> str:
    done = helm("template", "iris", str(CHART), "--namespace", "iris", values=VALUES[which])
    assert done.returncode == 0, done.stderr
    assert not done.stderr.strip(), done.stderr  # no warnings either
    return done.stdout


@cache
def rendered(which: str = "default") -> tuple[dict[str, Any], ...]:
    return tuple(d for d in yaml.safe_load_all(rendered_text(which)) if d)


def of_kind(kind: str, which: str = "default") -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(which) if d["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def secret_files(workload: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The files a pod finds in /run/secrets: file name -> (Secret name, key)."""
    files = {}
    for volume in pod_spec(workload)["volumes"]:
        for source in volume.get("projected", {}).get("sources", []):
            secret = source["secret"]
            for item in secret["items"]:
                files[item["path"]] = (secret["name"], item["key"])
    return files


def environment(workload: dict[str, Any]) -> dict[str, str]:
    container = pod_spec(workload)["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", [])}
