"""The development OIDC issuer: the local stand-in for itsme/eID.

It serves its JWKS so services can verify the tokens `iris token` mints from the
same key under IRIS_DATA_DIR. It refuses to start when IRIS_ENV=production.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from iris.auth import dev_issuer_key
from iris.settings import Settings
from iris.web import create_base_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    key = dev_issuer_key(settings)  # raises in production
    app = create_base_app("issuer")
    issuer = settings.oidc_issuer.rstrip("/")

    @app.get("/.well-known/openid-configuration")
    def openid_configuration() -> dict[str, Any]:
        """OpenID provider metadata."""
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["code"],
        }

    @app.get("/jwks.json")
    def jwks() -> dict[str, Any]:
        """The public keys that sign development tokens."""
        return {"keys": [key.jwk()]}

    return app
