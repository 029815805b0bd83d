"""renewer creds list|test|call|set, recipes list|show: exit codes, messages, no secrets."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from renewer.secretstore.base import Namespace, SecretRef
from tests.cli.helpers import Ran, invoke
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe, static_recipe

Secrets = Callable[[str], str]
HEADER = 'header:\n  Authorization: "Bearer {{secret.api_key}}"\n'


def renewer(workspace: Workspace, *args: str, input: str | None = None) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), *args],
        input=input,
        env={"HOME": str(workspace.home)},
    )


def static_api(
    workspace: Workspace, api_peer: ApiPeer, key: str | None, test_path: str = "/header"
) -> None:
    if key:
        api_peer.keys.add(key)
    workspace.recipe(
        "peerapi", static_recipe("peerapi", api_peer.base_url, inject=HEADER, test_path=test_path)
    )
    workspace.credential("api", "peerapi", "peerapi/main")
    if key:
        workspace.set_secret("peerapi/main", api_key=key)


class TestCredsList:
    def test_lists_credentials_with_state_and_recipes(
        self, workspace: Workspace, api_peer: ApiPeer, oauth_peer: OAuthPeer, make_secret: Secrets
    ) -> None:
        """Each credential's state, with the fixing command when a person must act."""
        static_api(workspace, api_peer, make_secret("key"))
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        workspace.credential("idp", "idp", "idp/main")
        workspace.set_secret("idp/main", client_id="c", client_secret=make_secret("cs"))
        workspace.credential("empty", "peerapi", "peerapi/none")

        ran = renewer(workspace, "creds", "list")

        assert ran.code == 0
        lines = ran.stdout.splitlines()
        assert lines[0].split() == ["CREDENTIAL", "RECIPE", "SECRET", "STORE", "STATE"]
        assert "ok: static key" in lines[1]
        assert "not-authorized: never authorized → renewer auth login idp" in lines[2]
        assert "no-secret:" in lines[3]
        assert "→ renewer creds set empty" in lines[3]
        assert any(line.startswith("notion ") for line in lines)

    def test_json_output_is_machine_readable(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """--json has the same facts as fields."""
        static_api(workspace, api_peer, make_secret("key"))

        ran = renewer(workspace, "creds", "list", "--json")

        document = json.loads(ran.stdout)
        assert document["credentials"][0]["state"] == "ok"
        assert document["credentials"][0]["healthy"] is True
        assert {"name": "peerapi", "primitive": "static_key", "origin": "user"}.items() <= (
            next(r for r in document["recipes"] if r["name"] == "peerapi").items()
        )

    def test_invalid_config_exits_78_with_file_and_line(self, workspace: Workspace) -> None:
        """A malformed credential entry names its line and field."""
        workspace.credential("x", "notion", "notion")
        line = workspace.config_path.read_text().splitlines().index("  secret: notion") + 1

        ran = renewer(workspace, "creds", "list")

        assert ran.code == 78
        assert f"{workspace.config_path}:{line}: credentials[0].secret" in ran.stderr
        assert "credentials[0].secret: expected service/instance, got 'notion'" in ran.stderr

    def test_unknown_recipe_in_config_exits_78(self, workspace: Workspace) -> None:
        """A typo in a recipe name is caught when the config loads."""
        workspace.credential("x", "notoin", "notion/x")

        ran = renewer(workspace, "creds", "list")

        assert ran.code == 78
        assert "credentials[0].recipe: no recipe named 'notoin'" in ran.stderr
        assert "see: runbooks/token-renewer.md#config-invalid" in ran.stderr


class TestCredsSet:
    def test_prompts_hide_secrets_and_store_them(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The prompt does not echo the key; the store has it; the next step is named."""
        static_api(workspace, api_peer, None)
        key = make_secret("key")

        ran = renewer(workspace, "creds", "set", "api", input=f"{key}\n")

        assert ran.code == 0
        assert "stored 1 value(s) for api (peerapi/main) in the local store" in ran.stdout
        assert "next: renewer creds test api" in ran.stdout
        assert workspace.store().read(*_secret_ref()) == {"api_key": key}

    def test_stdin_takes_a_single_value(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """`printf %s KEY | renewer creds set NAME --stdin`."""
        static_api(workspace, api_peer, None)
        key = make_secret("key")

        ran = renewer(workspace, "creds", "set", "api", "--stdin", input=key)

        assert ran.code == 0
        assert workspace.store().read(*_secret_ref()) == {"api_key": key}

    def test_stdin_json_for_oauth_clients_points_to_login(
        self, workspace: Workspace, api_peer: ApiPeer, oauth_peer: OAuthPeer, make_secret: Secrets
    ) -> None:
        """Several values come as a JSON object; a code-grant recipe's next step is the login."""
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        workspace.credential("idp", "idp", "idp/main")
        secret = make_secret("cs")

        ran = renewer(
            workspace,
            "creds",
            "set",
            "idp",
            "--stdin",
            input=json.dumps({"client_id": "cid", "client_secret": secret}),
        )

        assert ran.code == 0
        assert "next: renewer auth login idp" in ran.stdout

    @pytest.mark.parametrize(
        ("stdin", "message"),
        [
            ("", "no value for api_key; nothing was stored"),
            ('{"apikey": "x"}', "unknown key(s) on stdin: apikey"),
            ('{"api_key": 5}', "every value on stdin must be a string"),
        ],
    )
    def test_bad_input_exits_2_and_stores_nothing(
        self, workspace: Workspace, api_peer: ApiPeer, stdin: str, message: str
    ) -> None:
        """Empty or malformed input: a usage error, the store untouched."""
        static_api(workspace, api_peer, None)

        ran = renewer(workspace, "creds", "set", "api", "--stdin", input=stdin)

        assert ran.code == 2
        assert message in ran.stderr
        assert workspace.store().read(*_secret_ref()) is None

    def test_unknown_credential_exits_78(self, workspace: Workspace) -> None:
        """A credential that is not configured is a configuration problem."""
        workspace.write_config()

        ran = renewer(workspace, "creds", "set", "nope", "--stdin", input="x")

        assert ran.code == 78
        assert "no credential named 'nope' (known: none configured)" in ran.stderr


class TestCredsTest:
    def test_passing_test_exits_0(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """PASS with the call and the status."""
        static_api(workspace, api_peer, make_secret("key"))

        ran = renewer(workspace, "creds", "test", "api")

        assert (ran.code, ran.stdout.strip()) == (0, "PASS api: GET /header → HTTP 200")

    def test_failing_test_exits_1_with_the_fix(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A refused key: FAIL, the problem, and `renewer creds set` as the hint."""
        static_api(workspace, api_peer, make_secret("key"))
        api_peer.keys.clear()

        ran = renewer(workspace, "creds", "test", "api")

        assert ran.code == 1
        assert "FAIL api: GET /header → HTTP 401" in ran.stdout
        assert "expected HTTP 200, got HTTP 401" in ran.stdout
        assert "hint: renewer creds set api" in ran.stderr

    def test_unreachable_service_exits_75(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A service that only answers 503: temporary, with the runbook anchor."""
        static_api(workspace, api_peer, make_secret("key"), test_path="/flaky")
        api_peer.flaky = 1000

        ran = renewer(workspace, "creds", "test", "api")

        assert ran.code == 75
        assert "HTTP 503; gave up after" in ran.stderr
        assert "see: runbooks/credentials.md#service-unreachable" in ran.stderr

    def test_invalid_recipe_exits_78(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A recipe broken after the config was written: exit 78 and the recipe anchor."""
        static_api(workspace, api_peer, make_secret("key"))
        workspace.recipe("peerapi", "service: peerapi\nversion: 1\nprimitive: nope\n")

        ran = renewer(workspace, "creds", "test", "api")

        assert ran.code == 78
        assert "primitive: must be one of" in ran.stderr
        assert "see: runbooks/credentials.md#recipe-invalid" in ran.stderr

    def test_dead_grant_exits_1_with_the_login_command(
        self, workspace: Workspace, api_peer: ApiPeer, oauth_peer: OAuthPeer, make_secret: Secrets
    ) -> None:
        """invalid_grant: exit 1, `renewer auth login idp`, the reauth anchor."""
        secret = make_secret("cs")
        oauth_peer.add_client("c", secret)
        oauth_peer.invalid_grant = True
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        workspace.credential("idp", "idp", "idp/main")
        workspace.set_secret("idp/main", client_id="c", client_secret=secret)
        token = oauth_peer.issue("c")
        workspace.login_state("idp/main", token.access_token, token.refresh_token, lifetime=-1)

        ran = renewer(workspace, "creds", "test", "idp")

        assert ran.code == 1
        assert "hint: renewer auth login idp" in ran.stderr
        assert "see: runbooks/credentials.md#credential-reauth" in ran.stderr


class TestCredsCall:
    def test_get_prints_the_body_and_status_not_the_headers(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Body on stdout as sent, status on stderr, injected header nowhere."""
        static_api(workspace, api_peer, make_secret("key"))

        ran = renewer(workspace, "creds", "call", "api", "GET", "/header")

        assert ran.code == 0
        assert json.loads(ran.stdout) == {"ok": True, "style": "header"}
        assert ran.stderr.strip() == "HTTP 200 OK"
        assert "Bearer" not in ran.stdout + ran.stderr

    def test_post_data_from_a_file(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """--data @FILE sends the file; JSON gets a JSON content type."""
        key = make_secret("key")
        api_peer.keys.add(key)
        workspace.recipe(
            "peerapi",
            static_recipe(
                "peerapi", api_peer.base_url, inject='body:\n  api_key: "{{secret.api_key}}"\n'
            ),
        )
        workspace.credential("api", "peerapi", "peerapi/main")
        workspace.set_secret("peerapi/main", api_key=key)
        body = workspace.home / "body.json"
        body.write_text('{"page": 2}')

        ran = renewer(workspace, "creds", "call", "api", "POST", "/body", "--data", f"@{body}")

        assert json.loads(ran.stdout) == {
            "ok": True,
            "style": "body",
            "fields": ["api_key", "page"],
        }

    def test_refused_call_exits_1(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A 4xx answer is printed and exits 1."""
        static_api(workspace, api_peer, make_secret("key"))
        api_peer.keys.clear()

        ran = renewer(workspace, "creds", "call", "api", "GET", "/header")

        assert ran.code == 1
        assert ran.stderr.startswith("HTTP 401")

    def test_other_host_is_refused(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """An absolute URL elsewhere is refused before anything is sent."""
        static_api(workspace, api_peer, make_secret("key"))

        ran = renewer(workspace, "creds", "call", "api", "GET", "http://localhost:1/steal")

        assert ran.code == 1
        assert "refusing to send the credential" in ran.stderr
        assert api_peer.seen == []


class TestRecipesCommands:
    def test_show_prints_the_resolved_recipe(self, workspace: Workspace) -> None:
        """After extends, with the files it came from."""
        workspace.write_config()

        ran = renewer(workspace, "recipes", "show", "google_calendar")

        assert ran.code == 0
        assert ran.stdout.splitlines()[0] == "# recipe google_calendar, from (own file first):"
        assert "endpoint: https://oauth2.googleapis.com/token" in ran.stdout

    def test_show_of_a_refused_recipe_exits_78_with_the_allowlist_hint(
        self, workspace: Workspace
    ) -> None:
        """The domain rule explains itself."""
        workspace.write_config()
        workspace.recipe(
            "evil",
            """\
            extends: slack
            service: evil
            version: 1
            oauth:
              token_url: https://collector.example.net/token
            """,
        )

        ran = renewer(workspace, "recipes", "show", "evil")

        assert ran.code == 78
        assert "evil.yaml:5: oauth.token_url:" in ran.stderr
        assert (
            "hint: if that host really belongs to the service, add it to recipes.allow_domains"
            in ran.stderr
        )

    def test_list_works_without_a_config_file(self, workspace: Workspace) -> None:
        """Recipes can be browsed before renewer is set up."""
        ran = invoke(["recipes", "list"], env={"HOME": str(workspace.home), "RENEWER_CONFIG": ""})

        assert ran.code == 0
        assert "stripe" in ran.stdout


def _secret_ref() -> tuple[SecretRef, Namespace]:
    return SecretRef("peerapi", "main"), Namespace.SECRET
