from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx

from iris.auth import dev_issuer_key, mint
from iris.seed import DEV_RESPONSIBLE, DEV_SCHOOL, DEV_TEACHER, seed_demo_world
from iris.settings import Settings
from services.access.api import create_app
from tests.access.conftest import Clock, access_settings, free_port, serve, stop


def test_the_development_seed_gives_the_development_school_a_responsible_and_a_teacher(
    make_settings: Callable[..., Settings], tmp_path: Path
):
    data_dir = tmp_path / "dev"
    key = dev_issuer_key(make_settings("access", data_dir=data_dir))
    jwks = tmp_path / "dev-jwks.json"
    jwks.write_text(json.dumps({"keys": [key.jwk()]}))
    port = free_port()
    settings = access_settings(
        make_settings,
        data_dir=data_dir,
        oidc_issuer="http://dev-issuer.test",
        oidc_jwks_url=jwks.as_uri(),
        client_issuer=f"http://127.0.0.1:{port}",
    )
    served = serve(create_app(settings, clock=Clock()), port)
    try:
        said: list[str] = []
        stack = SimpleNamespace(
            urls={"access": served.url}, settings=lambda: settings, say=said.append
        )
        seed_demo_world(stack)
        seed_demo_world(stack)  # a restart of `iris dev` seeds again

        responsible = mint(
            key, settings.oidc_issuer, DEV_RESPONSIBLE, "iris", school_admin_of=[DEV_SCHOOL]
        )
        grants = httpx.get(
            f"{served.url}/v1/schools/{DEV_SCHOOL}/grants",
            headers={"Authorization": f"Bearer {responsible}"},
        ).json()
        assert [(g["person_id"], g["role"], g["version"]) for g in grants] == [
            (DEV_TEACHER, "teacher", 1)
        ]
        assert DEV_SCHOOL in said[0] and f"--sub {DEV_RESPONSIBLE}" in said[0]
    finally:
        stop(served)
