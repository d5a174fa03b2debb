"""The privacy notice states the retention periods the deployment is configured with."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from iris.auth import verifier_for
from iris.settings import Settings
from iris.ui import install_pages
from iris.web import create_base_app


def notice(tmp_path: Path, language: str, **retention: int) -> str:
    settings = Settings(env="test", data_dir=tmp_path, client_issuer=None, **retention)  # type: ignore[arg-type]
    app = create_base_app("demo")
    app.state.verifier = verifier_for(settings)
    install_pages(app, settings, "demo", signin=False)
    with TestClient(app) as client:
        answer = client.get("/privacy", headers={"Accept-Language": language})
    assert answer.status_code == 200
    assert answer.headers["content-language"] == language
    return answer.text


def test_the_notice_gives_each_period_from_the_settings_in_both_languages(tmp_path: Path) -> None:
    dutch = notice(tmp_path, "nl")
    assert "Privacyverklaring" in dutch and "daarna 2 jaar" in dutch and "10 jaar" in dutch
    english = notice(tmp_path, "en", retention_views_days=400, retention_replaced_report_days=365)
    assert "<td>400 days</td>" in english and "1 year more" in english
    assert 'href="/privacy"' in english  # the footer of every page links to it
