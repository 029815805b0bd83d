"""service_account, JWT kinds, against a local token endpoint that verifies every assertion."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from renewer.core.outcome import Outcome
from renewer.credentials.runner import run_credentials
from renewer.errors import CredentialError, CredentialReauthRequired, ServiceUnavailable
from renewer.secretstore.base import Namespace, SecretRef
from tests.keys import EMAIL, KEY_ID, ec_key, private_pem, service_account_json
from tests.peers.jwt_token_server import JwtTokenPeer
from tests.workspace import FAST, Workspace

Secrets = Callable[[str], str]
REF = "gcal/work"
CALENDAR = "https://www.googleapis.com/auth/calendar"


def google_setup(
    workspace: Workspace, peer: JwtTokenPeer, key: rsa.RSAPrivateKey, *, blob: str | None = None
) -> None:
    """A user recipe over the built-in google_calendar, pointed at the local peer."""
    workspace.recipe(
        "gcal",
        f"""\
        extends: google_calendar
        service: gcal
        version: 1
        base_url: {peer.url}/calendar/v3
        token_exchange:
          endpoint: {peer.token_url}
          audience: {peer.token_url}
        """,
    )
    workspace.credential("cal", "gcal", REF)
    workspace.set_secret(REF, service_account_json=blob or service_account_json(key))
    peer.register(EMAIL, key.public_key(), algorithm="RS256", key_id=KEY_ID)
    peer.expected_scopes = {CALENDAR}


def generic_recipe(peer: JwtTokenPeer, *, algorithm: str) -> str:
    return f"""\
    service: idp_jwt
    version: 1
    primitive: service_account
    kind: generic_jwt
    base_url: {peer.url}/v1
    const:
      tenant: t-1
    token_exchange:
      endpoint: {peer.token_url}
      algorithm: {algorithm}
      issuer_from_secret: client_id
      subject_from_secret: client_id
      key_id_from_secret: key_id
      ttl_seconds: 300
      scopes: [read, write]
      claims:
        tenant: "{{{{const.tenant}}}}"
      params:
        client_id: "{{{{secret.client_id}}}}"
    required_secrets:
      - {{key: client_id, secret: false}}
      - {{key: key_id, secret: false}}
      - {{key: private_key, type: pem_key}}
    inject:
      header:
        Authorization: "Bearer {{{{runtime.access_token}}}}"
    test:
      method: GET
      path: /me
      expect_status: 200
    """


def runtime_bytes(workspace: Workspace, ref: str = REF) -> bytes | None:
    path = workspace.store().path(SecretRef.parse(ref), Namespace.RUNTIME)
    return path.read_bytes() if path.exists() else None


class TestGoogle:
    def test_first_use_exchanges_a_signed_assertion(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """RS256, kid from the key file, iss/aud/scope/iat/exp as Google wants; token stored."""
        google_setup(workspace, jwt_peer, rsa_key)

        fresh = workspace.open("cal").ensure_fresh()

        [seen] = jwt_peer.received
        now = int(workspace.clock.now())
        assert fresh.refreshed
        assert seen.header == {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
        assert seen.claims == {
            "iss": EMAIL,
            "aud": jwt_peer.token_url,
            "iat": now,
            "exp": now + 3600,
            "scope": CALENDAR,
        }
        assert seen.form_keys == ["assertion", "grant_type"]
        stored = workspace.runtime(REF)
        assert stored.access_token == fresh.state.runtime.access_token
        assert stored.expires_at == workspace.clock.now() + 3600

    def test_the_token_is_reused_until_its_refresh_window(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """Half way: the stored token; past 2/3 of its life: a new assertion."""
        google_setup(workspace, jwt_peer, rsa_key)
        first = workspace.open("cal").ensure_fresh().state.runtime.access_token

        workspace.clock.advance(1800)
        kept = workspace.open("cal").ensure_fresh()
        workspace.clock.advance(700)
        renewed = workspace.open("cal").ensure_fresh()

        assert not kept.refreshed
        assert kept.state.runtime.access_token == first
        assert renewed.refreshed
        assert renewed.state.runtime.access_token != first
        assert jwt_peer.requests == 2
        assert jwt_peer.received[1].claims["iat"] == int(workspace.clock.now())

    def test_run_tests_and_writes_the_access_token(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """renewer run: exchange, the calendarList test, a file sink with the token."""
        google_setup(workspace, jwt_peer, rsa_key)
        sink = workspace.home / "out" / "gcal-token"
        workspace.credentials[0]["sinks"] = [{"type": "file", "path": str(sink)}]
        workspace.write_config()

        [result] = run_credentials(
            workspace.config(),
            now=workspace.clock.now,
            sleep=workspace.clock.sleep,
            rng=random.Random(1),
            policy=FAST,
        )

        token = workspace.runtime(REF).access_token
        assert result.outcome is Outcome.OK, result.summary
        assert result.details["tested"] is True
        assert token is not None
        assert sink.read_text() == token.reveal()
        assert oct(sink.stat().st_mode & 0o777) == "0o600"

    def test_domain_wide_delegation_sets_the_subject(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """subject_from_secret names a stored field: the assertion's sub is that user."""
        google_setup(workspace, jwt_peer, rsa_key)
        workspace.recipe(
            "gcal",
            f"""\
            extends: google_calendar
            service: gcal
            version: 1
            base_url: {jwt_peer.url}/calendar/v3
            token_exchange:
              endpoint: {jwt_peer.token_url}
              audience: {jwt_peer.token_url}
              subject_from_secret: delegate
            required_secrets: !append
              - {{key: delegate, label: User to act as, secret: false, optional: true}}
            """,
        )
        workspace.set_secret(
            REF, service_account_json=service_account_json(rsa_key), delegate="ada@example.com"
        )

        workspace.open("cal").ensure_fresh()

        assert jwt_peer.received[0].claims["sub"] == "ada@example.com"

    def test_a_revoked_access_token_is_replaced_after_a_401(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """The API says 401 before the expiry: one new assertion, one retest."""
        google_setup(workspace, jwt_peer, rsa_key)
        credential = workspace.open("cal")
        fresh = credential.ensure_fresh()
        jwt_peer.revoke_all()

        checked = credential.checked(fresh.state)

        assert checked.result.passed
        assert checked.refreshed
        assert jwt_peer.requests == 2

    def test_ten_concurrent_callers_cause_one_exchange(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """The refresh protocol holds for service accounts: one assertion, one shared token."""
        google_setup(workspace, jwt_peer, rsa_key)
        jwt_peer.slow()
        tokens: list[str] = []
        errors: list[BaseException] = []

        def caller() -> None:
            try:
                token = workspace.open("cal").ensure_fresh().state.runtime.access_token
                tokens.append(token.reveal() if token else "")
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=caller) for _ in range(10)]
        for thread in threads:
            thread.start()
        while jwt_peer.requests == 0:
            threading.Event().wait(0.005)
        jwt_peer.release()
        for thread in threads:
            thread.join(10)

        assert errors == []
        assert jwt_peer.requests == 1
        assert len(set(tokens)) == 1

    def test_without_expires_in_the_token_is_used_until_a_401(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """No expiry known: kept; nothing guesses a lifetime."""
        google_setup(workspace, jwt_peer, rsa_key)
        jwt_peer.expires_in = None
        workspace.open("cal").ensure_fresh()
        workspace.clock.advance(7200)

        assert not workspace.open("cal").ensure_fresh().refreshed


class TestGeneric:
    def test_es256_with_kid_claims_form_scope_and_params(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer
    ) -> None:
        """RFC 7523 issuer: ES256, kid, extra claim, jti, scope and client_id as form fields."""
        key = ec_key()
        workspace.recipe("idp_jwt", generic_recipe(jwt_peer, algorithm="ES256"))
        workspace.credential("idp", "idp_jwt", "idp_jwt/main")
        workspace.set_secret(
            "idp_jwt/main", client_id="svc-1", key_id="k-7", private_key=private_pem(key)
        )
        jwt_peer.register("svc-1", key.public_key(), algorithm="ES256", key_id="k-7")
        jwt_peer.expected_scopes = {"read", "write"}

        credential = workspace.open("idp")
        fresh = credential.ensure_fresh()
        result = credential.test(fresh.state)

        [seen] = jwt_peer.received
        assert seen.header["alg"] == "ES256"
        assert seen.header["kid"] == "k-7"
        assert seen.claims["iss"] == seen.claims["sub"] == "svc-1"
        assert seen.claims["tenant"] == "t-1"
        assert seen.claims["exp"] - seen.claims["iat"] == 300
        assert len(seen.claims["jti"]) >= 16
        assert "scope" not in seen.claims
        assert seen.form_scope == "read write"
        assert seen.extra_params == {"client_id": "svc-1"}
        assert result.passed

    def test_rs256_works_too(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """The same recipe shape with an RSA key."""
        workspace.recipe("idp_jwt", generic_recipe(jwt_peer, algorithm="RS256"))
        workspace.credential("idp", "idp_jwt", "idp_jwt/main")
        workspace.set_secret(
            "idp_jwt/main", client_id="svc-2", key_id="k-1", private_key=private_pem(rsa_key)
        )
        jwt_peer.register("svc-2", rsa_key.public_key(), algorithm="RS256", key_id="k-1")

        assert workspace.open("idp").ensure_fresh().refreshed


BAD_BLOBS = {
    "not-json": ("{not json", "not valid JSON (line 1, column 2)"),
    "a-list": ("[1, 2]", "JSON a list, not a key object"),
    "user-credentials": (None, "a 'authorized_user' credential, not a service-account key"),
    "no-email": (None, "the JSON has no 'client_email'"),
    "garbage-key": (None, "private_key: not a PEM private key"),
    "ec-key": (None, "private_key: not an RSA key"),
}


class TestRefusals:
    @pytest.mark.parametrize("case", list(BAD_BLOBS))
    def test_a_bad_key_file_is_named_and_nothing_is_sent(
        self,
        case: str,
        workspace: Workspace,
        jwt_peer: JwtTokenPeer,
        rsa_key: rsa.RSAPrivateKey,
    ) -> None:
        """Credential, field and what is wrong; the endpoint never sees a request."""
        blob, message = BAD_BLOBS[case]
        if case == "user-credentials":
            blob = service_account_json(rsa_key, type="authorized_user")
        elif case == "no-email":
            blob = service_account_json(rsa_key, client_email=None)
        elif case == "garbage-key":
            blob = service_account_json(rsa_key, private_key="-----BEGIN PRIVATE KEY-----\nAAA")
        elif case == "ec-key":
            blob = service_account_json(ec_key())
        google_setup(workspace, jwt_peer, rsa_key, blob=blob)

        with pytest.raises(CredentialError) as caught:
            workspace.open("cal").ensure_fresh()

        assert caught.value.message.startswith("cal: service_account_json")
        assert message in caught.value.message
        assert "renewer creds set cal" in caught.value.hint
        assert jwt_peer.requests == 0
        assert runtime_bytes(workspace) is None

    def test_a_key_of_the_wrong_type_for_es256(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """An RSA key in an ES256 recipe is refused before signing."""
        workspace.recipe("idp_jwt", generic_recipe(jwt_peer, algorithm="ES256"))
        workspace.credential("idp", "idp_jwt", "idp_jwt/main")
        workspace.set_secret(
            "idp_jwt/main", client_id="svc", key_id="k", private_key=private_pem(rsa_key)
        )

        with pytest.raises(CredentialError, match="idp: private_key: not an EC P-256 key"):
            workspace.open("idp").ensure_fresh()

        assert jwt_peer.requests == 0

    def test_an_html_answer_stores_nothing(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """A proxy's page is reported for what it is; the stored state is byte-identical."""
        google_setup(workspace, jwt_peer, rsa_key)
        workspace.open("cal").ensure_fresh()
        before = runtime_bytes(workspace)
        workspace.clock.advance(3000)
        jwt_peer.raw_answer = (200, "text/html", b"<html>login</html>")

        with pytest.raises(CredentialError) as caught:
            workspace.open("cal").ensure_fresh()

        assert "the token endpoint's answer is unusable" in caught.value.message
        assert "token_exchange.endpoint" in caught.value.hint
        assert runtime_bytes(workspace) == before

    def test_server_errors_are_retried_then_temporary(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """500 on every attempt: exit 75 after the policy's attempts, nothing stored."""
        google_setup(workspace, jwt_peer, rsa_key)
        jwt_peer.fail_next = 10

        with pytest.raises(ServiceUnavailable, match="cal: token request to 127.0.0.1"):
            workspace.open("cal").ensure_fresh()

        assert jwt_peer.requests == FAST.attempts
        assert runtime_bytes(workspace) is None

    def test_invalid_grant_needs_a_new_key_and_is_remembered(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """A refused key: exit 1 with `creds set`; later runs do not hammer the endpoint."""
        google_setup(workspace, jwt_peer, rsa_key)
        jwt_peer.invalid_grant = True

        with pytest.raises(CredentialReauthRequired) as caught:
            workspace.open("cal").ensure_fresh()
        with pytest.raises(CredentialReauthRequired):
            workspace.open("cal").ensure_fresh()

        assert "account disabled" in caught.value.message
        assert caught.value.hint.startswith("renewer creds set cal if the key was replaced")
        assert "`renewer recipes show gcal`" in caught.value.hint
        assert workspace.runtime(REF).needs_reauth
        assert jwt_peer.requests == 1

    def test_an_unexpected_scope_is_a_recipe_problem(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """invalid_scope is not a dead key: no mark, a hint at the recipe."""
        google_setup(workspace, jwt_peer, rsa_key)
        jwt_peer.expected_scopes = {"something-else"}

        with pytest.raises(CredentialError) as caught:
            workspace.open("cal").ensure_fresh()

        assert not isinstance(caught.value, CredentialReauthRequired)
        assert "invalid_scope" in caught.value.message
        assert not workspace.runtime(REF).needs_reauth

    def test_an_assertion_signed_with_another_key_is_refused(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        """The peer verifies signatures: a key it does not know gets invalid_grant."""
        google_setup(workspace, jwt_peer, rsa_key)
        jwt_peer.register(EMAIL, ec_key().public_key(), algorithm="ES256")

        with pytest.raises(CredentialReauthRequired, match="invalid"):
            workspace.open("cal").ensure_fresh()
