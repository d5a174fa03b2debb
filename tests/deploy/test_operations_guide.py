"""The install steps of docs/operations.md, run as a new operator would in a scratch folder
(as far as they go without a Docker engine): the secrets they make are every secret the
compose file mounts, in the form the services and PostgreSQL's init script read."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from iris.auth import SigningKey
from tests.deploy.design import ROOT
from tests.deploy.test_deployment_files import tool

GUIDE = ROOT / "docs" / "operations.md"
SERVICES = ("enrolment", "reports", "access", "viewer")


def shell_block_after(marker: str) -> str:
    text = GUIDE.read_text()
    found = re.search(re.escape(marker) + r".*?```sh\n(.*?)```", text, re.DOTALL)
    assert found, marker
    return found.group(1)


def sh(script: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "EDITOR": "true"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_guides_compose_steps_make_every_secret_the_services_read(tmp_path: Path) -> None:
    scratch = tmp_path / "iris"
    scratch.mkdir()
    for name in ("docker-compose.yml", ".env.example"):
        shutil.copy(ROOT / name, scratch / name)
    shutil.copytree(ROOT / "deploy", scratch / "deploy")

    sh(shell_block_after("**1. Settings.**"), scratch)
    sh(shell_block_after("**3. Secrets**"), scratch)
    checked = subprocess.run(
        [tool("docker-compose"), "config", "--format", "json"],
        cwd=scratch,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(scratch)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr  # step 4
    config = json.loads(checked.stdout)

    folder = scratch / "secrets"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for name, secret in config["secrets"].items():
        path = Path(secret["file"])
        assert path.parent == folder and path.exists(), name
        assert path.stat().st_mode & 0o444 == 0o444, f"{name} unreadable in the containers"
        if not name.startswith("viewer_client"):  # filled in step 5
            assert path.read_text().strip(), name

    # PostgreSQL's init script creates each role with the password of the service's URL
    script = (ROOT / "deploy" / "postgres" / "init-databases.sh").read_text()
    password_of = re.search(r"password_of\(\) \{.*?\n\}", script, re.DOTALL)
    assert password_of
    function = password_of.group(0).replace("/run/secrets", str(folder))
    for service in SERVICES:
        url = (folder / f"{service}_database_url").read_text()
        found = re.fullmatch(rf"postgresql://{service}:([A-Za-z0-9]+)@postgres:5432/{service}", url)
        assert found, url
        extracted = sh(f"{function}\npassword_of {service}", scratch).stdout
        assert extracted == found.group(1), service
    redis_password = (folder / "redis_password").read_text()
    assert (folder / "redis_url").read_text() == f"redis://:{redis_password}@redis:6379/0"
    SigningKey.from_pem((folder / "access_signing_key.pem").read_bytes())
    assert re.search(r'user_[\w-]+="[0-9a-f]{48}";', (folder / "kafka_jaas.conf").read_text())
    assert len((folder / "session_secret").read_text().strip()) >= 48

    # step 5: what `iris clients add` prints becomes the viewer's two secret files
    # (the access container's command is replaced by what it prints; no engine here)
    register = shell_block_after("**5. The viewer's service client.**")
    without_engine = "\n".join(
        "cat \\" if "clients add" in line else line
        for line in register.splitlines()
        if not re.match(r"docker compose (build|run --rm migrate)", line)
    )
    printed = "IRIS_SERVICE_CLIENT_ID=iris-abc123\nIRIS_SERVICE_CLIENT_SECRET=s3cr3t-_x\n"
    sh(without_engine, scratch, stdin=printed)
    assert (folder / "viewer_client_id").read_text() == "iris-abc123"
    assert (folder / "viewer_client_secret").read_text() == "s3cr3t-_x"
    for name in ("viewer_client_id", "viewer_client_secret"):
        assert (folder / name).stat().st_mode & 0o777 == 0o444, name
