"""Production start-up: every missing setting named at once; secrets read from files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from iris.settings import Settings


def run_iris(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    return subprocess.run(
        [sys.executable, "-m", "iris.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_viewer_in_production_names_every_missing_setting_in_one_message(tmp_path: Path):
    empty = tmp_path / "secrets"
    empty.mkdir()
    done = run_iris(["api", "viewer"], {"IRIS_ENV": "production", "IRIS_SECRETS_DIR": str(empty)})
    assert done.returncode != 0
    message = [line for line in done.stderr.splitlines() if "needs these settings" in line]
    assert len(message) == 1, done.stderr
    for name in (
        "IRIS_KAFKA_BOOTSTRAP",
        "IRIS_OIDC_ISSUER",
        "IRIS_DATABASE_URL or IRIS_VIEWER_DATABASE_URL",
        "IRIS_SESSION_SECRET",
        "IRIS_ACCESS_URL",
        "IRIS_VIEWER_URL",
        "IRIS_REPORTS_URL",
        "IRIS_REDIS_URL",
        "IRIS_FORWARDED_ALLOW_IPS",
        "IRIS_SERVICE_CLIENT_ID or IRIS_SERVICE_TOKEN",
        "IRIS_SERVICE_CLIENT_SECRET or IRIS_SERVICE_TOKEN",
    ):
        assert name in message[0], name


def test_settings_given_as_files_in_the_secrets_folder_count_and_are_read(tmp_path: Path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "IRIS_DATABASE_URL").write_text("postgresql://access:pw@db.example/access\n")
    (secrets / "IRIS_OIDC_ISSUER").write_text("https://login.example")
    done = run_iris(
        ["migrate", "access", "--wait", "0"],
        {"IRIS_ENV": "production", "IRIS_SECRETS_DIR": str(secrets)},
    )
    assert "needs these settings" not in done.stderr
    assert "database unreachable" in done.stderr  # it went on to reach db.example

    missing_key = run_iris(
        ["api", "access"], {"IRIS_ENV": "production", "IRIS_SECRETS_DIR": str(secrets)}
    )
    assert "IRIS_ACCESS_SIGNING_KEY_FILE" in missing_key.stderr
    assert "IRIS_DATABASE_URL" not in missing_key.stderr


def test_the_secrets_folder_gives_values_below_the_environment(tmp_path: Path, monkeypatch):
    (tmp_path / "IRIS_SESSION_SECRET").write_text("from-a-file\n")
    (tmp_path / "IRIS_REPORTS_DATABASE_URL").write_text("postgresql://r:pw@db/reports")
    (tmp_path / "IRIS_REDIS_URL").write_text("redis://:file@redis:6379/0")
    monkeypatch.setenv("IRIS_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("IRIS_REDIS_URL", "redis://:env@redis:6379/0")
    settings = Settings(env="test", data_dir=tmp_path)
    assert settings.session_secret == "from-a-file"
    assert settings.redis_url == "redis://:env@redis:6379/0"
    assert settings.database_url_for("reports") == "postgresql://r:pw@db/reports"
