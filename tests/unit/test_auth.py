import os
import time

import jwt
import pytest

from iris.auth import AuthError, SigningKey, TokenVerifier, TrustedIssuer, mint
from iris.settings import Settings
from tests.support import Issuer


@pytest.fixture(scope="module")
def test_issuer(tmp_path_factory) -> Issuer:
    return Issuer(tmp_path_factory.mktemp("iss"))


@pytest.fixture(scope="module")
def verifier(test_issuer) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")


def test_a_valid_token_names_the_person_and_their_institutions(test_issuer, verifier):
    token = test_issuer.token("85073003328", name="An", school_admin_of=["031112"])
    principal = verifier.verify(token)
    assert principal.subject == "85073003328" and principal.name == "An"
    assert principal.school_admin_of == {"031112"} and principal.is_person


@pytest.mark.parametrize(
    "forge, reason",
    [
        (lambda i: i.token("x", ttl=-30), "expired"),
        (lambda i: i.token("x", audience="other"), "not meant for this service"),
        (lambda i: mint(SigningKey.generate(), i.issuer, "x", "iris"), "does not publish"),
        (lambda i: mint(i.key, "http://elsewhere", "x", "iris"), "untrusted issuer"),
        (
            lambda i: jwt.encode(
                {"sub": "x", "iss": i.issuer, "aud": "iris", "exp": int(time.time()) + 60},
                "a-shared-secret-long-enough-for-hmac-sha256",
                algorithm="HS256",
            ),
            "only RS256",
        ),
        (lambda i: "not.a.token", "malformed"),
    ],
)
def test_tokens_that_must_not_pass_are_refused_with_the_reason(
    test_issuer, verifier, forge, reason
):
    with pytest.raises(AuthError) as caught:
        verifier.verify(forge(test_issuer))
    assert reason in str(caught.value)


def test_an_issuer_trusted_for_clients_only_cannot_vouch_for_a_person(test_issuer):
    verifier = TokenVerifier(
        [TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url, clients_only=True)], "iris"
    )
    assert verifier.verify(test_issuer.token("client:1", school_id="1")).school_client_of == "1"
    with pytest.raises(AuthError):
        verifier.verify(test_issuer.token("85073003328", school_admin_of=["1"]))


def test_production_refuses_the_development_issuer_and_sqlite(monkeypatch):
    for name in [n for n in os.environ if n.startswith("IRIS_")]:
        monkeypatch.delenv(name)
    with pytest.raises(ValueError, match="IRIS_OIDC_ISSUER"):
        Settings(env="production", database_url="postgresql://db/iris")
    with pytest.raises(ValueError, match="IRIS_DATABASE_URL"):
        Settings(env="production", oidc_issuer="https://idp.example.be").database_url_for("x")
    with pytest.raises(ValueError, match="IRIS_DATABASE_URL"):
        Settings(
            env="production", oidc_issuer="https://idp.example.be", database_url="sqlite:///iris.db"
        ).database_url_for("x")
    Settings(
        env="production", oidc_issuer="https://idp.example.be", database_url="postgresql://db/iris"
    )


def test_the_development_issuer_refuses_to_start_in_production(tmp_path):
    from iris.issuer import create_app

    settings = Settings(
        env="production",
        oidc_issuer="https://idp.example.be",
        database_url="postgresql://db/iris",
        data_dir=tmp_path,
    )
    with pytest.raises(RuntimeError, match="production"):
        create_app(settings)
    assert not (tmp_path / "issuer").exists()


def test_a_token_verified_lately_is_remembered_but_never_past_its_expiry(test_issuer, monkeypatch):
    verifier = TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")
    token = test_issuer.token("85073003328", ttl=60)
    assert verifier.known(token) is None  # nothing is trusted before it was verified
    principal = verifier.verify(token)
    assert verifier.known(token) == principal
    expires = principal.claims["exp"]
    real_time = time.time
    monkeypatch.setattr("iris.auth.time.time", lambda: max(real_time(), expires + 1))
    assert verifier.known(token) is None


def test_a_token_is_remembered_while_the_keys_that_verified_it_are_current(
    test_issuer, monkeypatch
):
    """School software sends one token with thousands of submissions: its signature is
    checked again only once its issuer's keys are due to be fetched again."""
    verifier = TokenVerifier(
        [TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris", refresh_seconds=300
    )
    token = test_issuer.token("85073003328", ttl=900)
    principal = verifier.verify(token)
    verified_at = time.time()
    monkeypatch.setattr("iris.auth.time.time", lambda: verified_at + 200)
    assert verifier.known(token) == principal
    monkeypatch.setattr("iris.auth.time.time", lambda: verified_at + 301)
    assert verifier.known(token) is None


def test_a_token_accepted_within_the_clock_leeway_after_expiry_is_not_remembered(test_issuer):
    verifier = TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")
    token = test_issuer.token("85073003328", ttl=-2)
    assert verifier.verify(token).subject == "85073003328"
    assert verifier.known(token) is None


def test_a_remembered_token_does_not_vouch_for_a_tampered_copy(test_issuer):
    verifier = TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")
    token = test_issuer.token("85073003328", ttl=60)
    verifier.verify(token)
    header, body, signature = token.split(".")
    with pytest.raises(AuthError):
        verifier.verify(f"{header}.{body}.{signature[:-4]}AAAA")


# -- the issuer's keys: discovery, refresh, removal, amr -------------------------------------


def later(monkeypatch, seconds: float) -> None:
    """Move the verifier's clock on (PyJWT's own expiry check keeps the real time)."""
    real_time = time.time
    monkeypatch.setattr("iris.auth.time.time", lambda: real_time() + seconds)


def test_a_removed_key_is_refused_after_the_next_refresh_and_not_before(tmp_path, monkeypatch):
    issuer = Issuer(tmp_path / "rotating")
    verifier = TokenVerifier(
        [TrustedIssuer(issuer.issuer, issuer.jwks_url)], "iris", refresh_seconds=300
    )
    old = issuer.token("85073003328")
    assert verifier.verify(old).subject == "85073003328"
    issuer.rotate()
    new = issuer.token("85073003328")
    later(monkeypatch, 250)  # the keys in hand are current for 300 s
    assert verifier.verify(old).subject == "85073003328"
    later(monkeypatch, 301)
    with pytest.raises(AuthError, match="does not publish"):
        verifier.verify(old)
    assert verifier.verify(new).subject == "85073003328"


def test_a_token_with_a_new_kid_fetches_the_keys_early_which_drops_a_removed_one(
    tmp_path, monkeypatch
):
    issuer = Issuer(tmp_path / "rotating")
    verifier = TokenVerifier(
        [TrustedIssuer(issuer.issuer, issuer.jwks_url)], "iris", refresh_seconds=300
    )
    old = issuer.token("85073003328")
    verifier.verify(old)
    issuer.rotate()
    new = issuer.token("85073003328")
    later(monkeypatch, 31)  # an unknown kid fetches the set at most every 30 s
    assert verifier.verify(new).subject == "85073003328"
    with pytest.raises(AuthError, match="does not publish"):
        verifier.verify(old)


def test_keys_serve_while_the_issuer_is_unreachable_for_twice_the_interval_then_nothing(
    tmp_path, monkeypatch
):
    issuer = Issuer(tmp_path / "going")
    verifier = TokenVerifier(
        [TrustedIssuer(issuer.issuer, issuer.jwks_url)], "iris", refresh_seconds=300
    )
    token = issuer.token("85073003328")
    verifier.verify(token)
    issuer.jwks_path.unlink()
    later(monkeypatch, 450)
    assert verifier.verify(token).subject == "85073003328"
    later(monkeypatch, 601)
    with pytest.raises(AuthError):
        verifier.verify(token)


def test_a_discovery_document_that_names_another_issuer_is_not_trusted(tmp_path):
    from tests.support import issuer_over_http

    with issuer_over_http(tmp_path / "idp") as (idp, _requested):
        impostor = TokenVerifier([TrustedIssuer(idp.issuer + "/realms/other")], "iris")
        token = mint(idp.key, idp.issuer + "/realms/other", "85073003328", "iris", amr=["eid"])
        with pytest.raises(AuthError):
            impostor.verify(token)
        trusting = TokenVerifier([TrustedIssuer(idp.issuer)], "iris")
        assert trusting.verify(idp.token("85073003328")).amr == ("itsme",)


@pytest.mark.parametrize(
    "claims, allowed",
    [
        ({"amr": ["itsme"]}, True),
        ({"amr": ["eid"]}, True),
        ({"amr": ["pwd", "eid"]}, True),
        ({"amr": ["pwd"]}, False),
        ({"amr": "itsme"}, True),
        ({"amr": None}, False),
        ({"amr": None, "school_id": "031112"}, True),  # a client: no person, no amr
        ({"amr": None, "service": "viewer"}, True),
        ({"amr": None, "support_network": "net"}, True),
    ],
)
def test_a_persons_token_must_say_itsme_or_eid(test_issuer, claims, allowed):
    verifier = TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")
    token = mint(test_issuer.key, test_issuer.issuer, "85073003328", "iris", **claims)
    if allowed:
        assert verifier.verify(token).subject == "85073003328"
    else:
        with pytest.raises(AuthError, match="amr"):
            verifier.verify(token)


# -- the moment a token's times are judged at ------------------------------------------------


def client_token(issuer: Issuer, issued: int, lives: int, name: str = "") -> str:
    """A school-software client's token issued at `issued`, expiring `lives` s later."""
    return issuer.token(
        "client:1", school_id="1", iat=issued, nbf=issued, exp=issued + lives, client_name=name
    )


def test_a_token_is_judged_at_the_moment_given_rather_than_now(test_issuer):
    verifier = TokenVerifier(
        [TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris", leeway=1
    )
    issued = int(time.time()) - 600
    token = client_token(test_issuer, issued, 60)  # expired nine minutes ago
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)
    assert verifier.verify(token, at=issued + 30).school_client_of == "1"
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token, at=issued + 62)  # past its expiry and the leeway
    with pytest.raises(AuthError, match="not yet valid"):
        verifier.verify(token, at=issued - 5)  # before it was issued


def test_a_token_judged_at_a_past_moment_is_not_remembered_past_its_expiry(test_issuer):
    verifier = TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")
    issued = int(time.time()) - 600
    token = client_token(test_issuer, issued, 60, "past")
    verifier.verify(token, at=issued + 30)
    assert verifier.known(token) is None  # it lapsed by the wall clock: nothing to trust later
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)


def test_a_remembered_token_is_judged_anew_at_each_moment(test_issuer):
    verifier = TokenVerifier(
        [TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris", leeway=1
    )
    issued = int(time.time())
    token = client_token(test_issuer, issued, 60, "remembered")
    assert verifier.verify(token).school_client_of == "1"
    assert verifier.known(token) is not None
    # a later message with the same token, appended (as a broker's clock says) past its
    # expiry: remembering the signature does not vouch for the time
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token, at=issued + 90)
    with pytest.raises(AuthError, match="not yet valid"):
        verifier.verify(token, at=issued - 30)
    assert verifier.verify(token, at=issued + 30).school_client_of == "1"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_time_claim_that_is_no_number_is_refused(test_issuer, claim):
    verifier = TokenVerifier([TrustedIssuer(test_issuer.issuer, test_issuer.jwks_url)], "iris")
    token = test_issuer.token("client:1", school_id="1", **{claim: "soon"})
    with pytest.raises(AuthError):
        verifier.verify(token)
