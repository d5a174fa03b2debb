import jwt
import pytest

from iris.auth import dev_issuer_key
from iris.settings import Settings
from services.viewer.api import ServiceToken


def test_without_a_configured_token_the_viewer_mints_its_own_from_the_development_issuer(
    tmp_path,
):
    settings = Settings(env="test", data_dir=tmp_path)
    token = ServiceToken(settings)()
    public = dev_issuer_key(settings).jwk()
    claims = jwt.decode(
        token,
        jwt.PyJWK(public).key,
        algorithms=["RS256"],
        audience=settings.internal_audience,
        issuer=settings.oidc_issuer,
    )
    assert (claims["sub"], claims["service"]) == ("service:viewer", "viewer")


def test_a_configured_token_is_used_as_it_is(tmp_path):
    settings = Settings(env="test", data_dir=tmp_path, service_token="configured")
    assert ServiceToken(settings)() == "configured"


def test_production_never_mints_a_token_from_the_development_issuer(tmp_path):
    settings = Settings(
        env="production",
        data_dir=tmp_path,
        oidc_issuer="https://login.example",
        database_url="postgresql://db.example/iris",
    )
    with pytest.raises(RuntimeError, match="IRIS_SERVICE_TOKEN"):
        ServiceToken(settings)()
