"""oauth2 against the local Authlib server: grants, refresh protocol, failures."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from renewer.errors import (
    CredentialError,
    CredentialReauthRequired,
    LockBusy,
    ServiceUnavailable,
)
from renewer.primitives.base import Action
from renewer.secretstore.base import Namespace, SecretRef
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe

Secrets = Callable[[str], str]
REF = "idp/main"


def code_credential(
    workspace: Workspace,
    oauth_peer: OAuthPeer,
    api_peer: ApiPeer,
    make_secret: Secrets,
    *,
    client_auth: str = "header",
) -> tuple[str, str]:
    """An authorization_code credential already logged in; returns (access, refresh)."""
    secret = make_secret("client-secret")
    method = "client_secret_post" if client_auth == "body" else "client_secret_basic"
    oauth_peer.add_client("renewer-test", secret, auth_method=method)
    workspace.recipe(
        "idp",
        oauth_recipe(
            "idp",
            base_url=api_peer.base_url,
            authorize_url=oauth_peer.authorize_url,
            token_url=oauth_peer.token_url,
            client_auth=client_auth,
        ),
    )
    workspace.credential("idp", "idp", REF)
    workspace.set_secret(REF, client_id="renewer-test", client_secret=secret)
    token = oauth_peer.issue("renewer-test")
    assert token.refresh_token is not None
    workspace.login_state(REF, token.access_token, token.refresh_token)
    return token.access_token, token.refresh_token


def runtime_file(workspace: Workspace) -> bytes:
    return workspace.store().path(SecretRef.parse(REF), Namespace.RUNTIME).read_bytes()


class TestRefresh:
    def test_fresh_token_is_used_without_a_request(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Half way through its life nothing is refreshed."""
        access, _ = code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(1800)

        fresh = workspace.open("idp").ensure_fresh()

        assert not fresh.refreshed
        assert fresh.state.runtime.access_token is not None
        assert fresh.state.runtime.access_token.reveal() == access
        assert oauth_peer.refresh_count == 0

    def test_due_token_is_refreshed_and_rotation_persisted(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Past 2/3 of its life: refreshed; the rotated refresh token is what is stored."""
        access, refresh = code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(2400)

        fresh = workspace.open("idp").ensure_fresh()
        stored = workspace.runtime(REF)

        assert fresh.refreshed
        assert stored.access_token == fresh.state.runtime.access_token
        assert stored.access_token is not None
        assert stored.access_token.reveal() != access
        assert stored.refresh_token is not None
        assert stored.refresh_token.reveal() != refresh
        assert stored.issued_at == workspace.clock.now()
        assert stored.expires_at == workspace.clock.now() + 3600
        assert oauth_peer.client_auth_seen == ["client_secret_basic"]

    def test_client_auth_in_body_when_the_recipe_says_so(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """client_auth: body → client_secret_post."""
        code_credential(workspace, oauth_peer, api_peer, make_secret, client_auth="body")
        workspace.clock.advance(3600)

        workspace.open("idp").ensure_fresh()

        assert oauth_peer.client_auth_seen == ["client_secret_post"]

    def test_without_rotation_the_refresh_token_is_kept(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A server that does not rotate sends no refresh token: the old one stays stored."""
        _, refresh = code_credential(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.rotate = False
        workspace.clock.advance(3000)

        workspace.open("idp").ensure_fresh()

        stored = workspace.runtime(REF).refresh_token
        assert stored is not None
        assert stored.reveal() == refresh

    def test_ten_concurrent_callers_cause_one_refresh(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The lock plus a re-read after acquiring it: one token request, one shared token."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        oauth_peer.slow()  # hold the first refresh so the others pile up on the lock
        results: list[str] = []
        errors: list[BaseException] = []

        def caller() -> None:
            try:
                token = workspace.open("idp").ensure_fresh().state.runtime.access_token
                results.append(token.reveal() if token else "")
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=caller) for _ in range(10)]
        for thread in threads:
            thread.start()
        while oauth_peer.refresh_count == 0:
            threading.Event().wait(0.005)
        oauth_peer.release()
        for thread in threads:
            thread.join(10)

        assert errors == []
        assert oauth_peer.refresh_count == 1
        assert len(set(results)) == 1
        assert len(results) == 10

    def test_forced_refresh_is_skipped_when_another_process_already_refreshed(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """After a 401, the stored token is checked first: someone else's fresh token is used."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        credential = workspace.open("idp")
        stale = credential.state()
        other = oauth_peer.issue("renewer-test")
        workspace.login_state(REF, other.access_token, other.refresh_token)

        def state_seen_before_the_401() -> object:
            return stale

        credential.state = state_seen_before_the_401  # type: ignore[method-assign,assignment]
        fresh = credential.ensure_fresh(force=True)

        assert not fresh.refreshed
        assert fresh.state.runtime.access_token is not None
        assert fresh.state.runtime.access_token.reveal() == other.access_token
        assert oauth_peer.refresh_count == 0

    def test_lock_held_by_another_process_is_temporary(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """flock works across processes: a holder elsewhere makes us wait, then exit 75."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        credential = workspace.open("idp")
        credential.lock_timeout = 0.2
        credential.lock_file.parent.mkdir(parents=True, exist_ok=True)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import fcntl,sys; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); "
                "print('held', flush=True); sys.stdin.read()",
                str(credential.lock_file),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(LockBusy) as caught:
                credential.ensure_fresh()
        finally:
            holder.communicate("")
        assert caught.value.exit_code == 75
        assert oauth_peer.refresh_count == 0


class TestClientCredentials:
    def test_token_is_fetched_when_there_is_none(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A machine credential needs no login: the first use fetches a token and tests it."""
        secret = make_secret("cc-secret")
        oauth_peer.add_client(
            "machine", secret, auth_method="client_secret_post", grant_types=("client_credentials",)
        )
        workspace.recipe(
            "machine",
            oauth_recipe(
                "machine",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
                grant="client_credentials",
                client_auth="body",
            ),
        )
        workspace.credential("machine", "machine", "machine/x")
        workspace.set_secret("machine/x", client_id="machine", client_secret=secret)
        credential = workspace.open("machine")

        fresh = credential.ensure_fresh()

        assert fresh.refreshed
        assert fresh.state.runtime.refresh_token is None
        assert oauth_peer.token_requests["client_credentials"] == 1
        assert credential.test(fresh.state).passed


class TestReauth:
    def test_invalid_grant_marks_the_credential_and_names_the_command(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """invalid_grant: exit 1, `renewer auth login idp`, and the state says so afterwards."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.invalid_grant = True
        workspace.clock.advance(3000)

        with pytest.raises(CredentialReauthRequired, match="refused the grant") as caught:
            workspace.open("idp").ensure_fresh()

        assert caught.value.hint == "renewer auth login idp"
        assert caught.value.exit_code == 1
        assert workspace.runtime(REF).needs_reauth

    def test_marked_credential_asks_no_server(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Once marked, refreshes are not attempted again until a login."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.invalid_grant = True
        workspace.clock.advance(3000)
        with pytest.raises(CredentialReauthRequired):
            workspace.open("idp").ensure_fresh()

        with pytest.raises(CredentialReauthRequired, match="needs a person"):
            workspace.open("idp").ensure_fresh()

        assert oauth_peer.refresh_count == 1

    def test_reused_rotated_refresh_token_is_invalid_grant(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The real server revokes a rotated refresh token: replaying it is refused."""
        _, refresh = code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        workspace.open("idp").ensure_fresh()
        workspace.login_state(REF, "stale-access-token", refresh, lifetime=1)
        workspace.clock.advance(10)

        with pytest.raises(CredentialReauthRequired, match="invalid_grant"):
            workspace.open("idp").ensure_fresh()

    def test_wrong_client_secret_is_invalid_client(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """invalid_client is also only fixable by a person."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.set_secret(REF, client_id="renewer-test", client_secret=make_secret("wrong"))
        workspace.clock.advance(3000)

        with pytest.raises(CredentialReauthRequired, match="refused the client credentials"):
            workspace.open("idp").ensure_fresh()

    def test_never_logged_in_asks_for_a_login(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A code-grant credential with no tokens yet points at `renewer auth login`."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.store().path(SecretRef.parse(REF), Namespace.RUNTIME).unlink()
        credential = workspace.open("idp")

        plan = credential.plan(credential.state())
        with pytest.raises(CredentialReauthRequired, match="never authorized") as caught:
            credential.ensure_fresh()

        assert plan.action is Action.REAUTH
        assert caught.value.hint == "renewer auth login idp"


class TestBadAnswers:
    @pytest.mark.parametrize(
        "case",
        [
            ((200, "text/html", b"<html>login</html>"), "HTTP 200 with text/html, not JSON"),
            ((200, "application/json", b"[]"), "the JSON is a list, not an object"),
            (
                (200, "application/json", b'{"token_type": "Bearer"}'),
                "the answer has no access_token",
            ),
            ((200, "application/json", b'{"access_token": ""}'), "access_token is empty"),
            (
                (200, "application/json", b'{"access_token": "abcdefgh", "expires_in": "3600"}'),
                "expires_in is a string, not a number of seconds",
            ),
            (
                (200, "application/json", b'{"access_token": "abcdefgh", "expires_in": -5}'),
                "expires_in is not a usable number",
            ),
            (
                (200, "application/json", b'{"access_token": "abcdefgh", "refresh_token": 7}'),
                "refresh_token is a number, not a string",
            ),
            ((403, "text/plain", b"forbidden"), "HTTP 403 with text/plain, not JSON"),
            (
                (400, "application/json", b'{"detail": "nope"}'),
                "HTTP 400 without an OAuth error code",
            ),
            (
                (400, "application/json", b'{"error": "invalid_scope"}'),
                "refused the request (invalid_scope)",
            ),
        ],
        ids=[
            "html",
            "list",
            "no-access-token",
            "empty-token",
            "string-expires",
            "negative-expires",
            "number-refresh",
            "403-text",
            "400-no-code",
            "invalid-scope",
        ],
    )
    def test_unusable_answer_is_reported_and_nothing_is_stored(
        self,
        workspace: Workspace,
        oauth_peer: OAuthPeer,
        api_peer: ApiPeer,
        make_secret: Secrets,
        case: tuple[tuple[int, str, bytes], str],
    ) -> None:
        """A bad token answer is a clear CredentialError; the stored state is unchanged."""
        answer, message = case
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        before = runtime_file(workspace)
        oauth_peer.raw_answer = answer

        with pytest.raises(CredentialError) as caught:
            workspace.open("idp").ensure_fresh()

        assert message in str(caught.value)
        assert not isinstance(caught.value, CredentialReauthRequired)
        assert runtime_file(workspace) == before

    def test_server_error_is_retried_then_succeeds(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """One 500, then a token: retried after a jittered wait."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        oauth_peer.fail_next = 1

        assert workspace.open("idp").ensure_fresh().refreshed
        assert oauth_peer.refresh_count == 2
        assert len(workspace.clock.slept) == 1

    def test_server_down_is_temporary_and_state_untouched(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """500s on every attempt: exit 75 after the bounded retries; nothing changed."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        before = runtime_file(workspace)
        oauth_peer.fail_next = 100

        with pytest.raises(ServiceUnavailable, match=r"token request to 127\.0\.0\.1: HTTP 500"):
            workspace.open("idp").ensure_fresh()

        assert oauth_peer.refresh_count == 3
        assert runtime_file(workspace) == before

    def test_slow_server_times_out_as_temporary(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A token endpoint that never answers: each attempt times out, then exit 75."""
        from dataclasses import replace

        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        oauth_peer.slow()
        http = workspace.http()
        http.policy = replace(http.policy, timeout=0.1, attempts=2)

        with pytest.raises(ServiceUnavailable, match=r"no answer within 0.1s; gave up after 2"):
            workspace.open("idp", http=http).ensure_fresh()

    def test_store_failure_after_refresh_keeps_the_new_token_unused(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """If the rotated tokens cannot be persisted, they are not returned for use."""
        code_credential(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        credential = workspace.open("idp")
        store = credential.store
        real_update = store.update

        def failing_update(ref: SecretRef, namespace: Namespace, change: object) -> dict[str, str]:
            if namespace is Namespace.RUNTIME:
                raise OSError(28, "No space left on device")
            return real_update(ref, namespace, change)  # type: ignore[arg-type]

        store.update = failing_update  # type: ignore[method-assign]

        with pytest.raises(CredentialError, match="could not be stored") as caught:
            credential.ensure_fresh()

        assert "were not used" in str(caught.value)
        assert caught.value.hint.endswith("renewer auth login idp")
