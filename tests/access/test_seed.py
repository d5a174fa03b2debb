from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx

from iris import seed
from iris.auth import dev_issuer_key, mint
from iris.seed import seed_demo_world
from iris.settings import Settings
from services.access.api import create_app
from tests.access.conftest import Clock, access_settings, free_port, serve, stop


def test_the_demo_world_grants_staff_and_files_one_request_once_however_often_it_runs(
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
        stack = SimpleNamespace(urls={"access": served.url}, settings=lambda: settings)
        assert seed_demo_world(stack) == ["access"]
        seed_demo_world(stack)  # a restart of `iris dev` seeds again

        responsible = mint(
            key,
            settings.oidc_issuer,
            seed.RESPONSIBLE_A.insz,
            "iris",
            school_admin_of=[seed.SCHOOL_A],
            amr=["itsme"],
        )
        headers = {"Authorization": f"Bearer {responsible}"}
        grants = httpx.get(
            f"{served.url}/v1/schools/{seed.SCHOOL_A}/grants", headers=headers
        ).json()
        assert sorted(
            (g["person_id"], g["role"], g["version"], g["pupil_ids"]) for g in grants
        ) == sorted(
            [
                (seed.TEACHER.insz, "teacher", 1, [seed.PUPILS[0].insz, seed.PUPILS[2].insz]),
                (seed.CARE_COORDINATOR.insz, "care_coordinator", 1, None),
            ]
        )
        pending = httpx.get(
            f"{served.url}/v1/schools/{seed.SCHOOL_A}/access-requests",
            params={"status": "pending"},
            headers=headers,
        ).json()
        assert [r["person_id"] for r in pending] == [seed.SUPPORT_WORKER.insz]

        special = mint(
            key,
            settings.oidc_issuer,
            seed.RESPONSIBLE_A.insz,
            "iris",
            school_admin_of=[seed.SPECIAL_SCHOOL],
            amr=["itsme"],
        )
        refused = httpx.post(
            f"{served.url}/v1/schools/{seed.SPECIAL_SCHOOL}/grants",
            headers={"Authorization": f"Bearer {special}"},
            json={
                "person_id": seed.SUPPORT_WORKER.insz,
                "role": "support_worker",
                "valid_from": seed.SCHOOL_YEAR_START,
            },
        )
        assert refused.status_code == 422, "the demo's special school is in the register"
    finally:
        stop(served)
