import jwt
import pytest

from iris.auth import dev_issuer_key
from iris.settings import Settings
from services.viewer.reports_token import ServiceToken, TokenUnavailable


async def test_without_a_configured_token_the_viewer_mints_its_own_from_the_development_issuer(
    tmp_path,
):
    settings = Settings(env="test", data_dir=tmp_path)
    token = await ServiceToken(settings)()
    public = dev_issuer_key(settings).jwk()
    claims = jwt.decode(
        token,
        jwt.PyJWK(public).key,
        algorithms=["RS256"],
        audience=settings.internal_audience,
        issuer=settings.oidc_issuer,
    )
    assert (claims["sub"], claims["service"]) == ("service:viewer", "viewer")


async def test_a_configured_token_is_used_as_it_is(tmp_path):
    settings = Settings(env="test", data_dir=tmp_path, service_token="configured")
    assert await ServiceToken(settings)() == "configured"


def test_production_without_client_credentials_names_them_and_mints_nothing(tmp_path):
    settings = Settings(
        env="production",
        data_dir=tmp_path,
        oidc_issuer="https://login.example",
        database_url="postgresql://db.example/iris",
    )
    with pytest.raises(TokenUnavailable, match="IRIS_SERVICE_CLIENT_ID"):
        ServiceToken(settings)
