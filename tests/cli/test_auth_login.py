"""renewer auth login as a person runs it: a real subprocess, a (stand-in) browser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests import leakguard
from tests.cli.helpers import invoke
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe

Secrets = Callable[[str], str]
ROOT = Path(__file__).resolve().parents[2]


def oauth_setup(
    workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
) -> None:
    secret = make_secret("client-secret")
    oauth_peer.add_client("renewer-test", secret)
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
    workspace.set_secret("idp/main", client_id="renewer-test", client_secret=secret)


class TestAuthLogin:
    def test_login_with_open_completes_through_the_browser(
        self,
        workspace: Workspace,
        oauth_peer: OAuthPeer,
        api_peer: ApiPeer,
        make_secret: Secrets,
        tmp_path: Path,
    ) -> None:
        """--open hands the URL to $BROWSER; the redirect lands; tokens are stored and work."""
        oauth_setup(workspace, oauth_peer, api_peer, make_secret)
        browser = tmp_path / "browser"
        browser.write_text(
            f'#!/bin/sh\nexec {sys.executable} {ROOT / "tests/peers/browser.py"} "$1"\n'
        )
        browser.chmod(0o755)
        env = {
            **os.environ,
            "HOME": str(workspace.home),
            "BROWSER": str(browser),
            "PYTHONPATH": str(ROOT),
        }

        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "renewer",
                "--config",
                str(workspace.config_path),
                "auth",
                "login",
                "idp",
                "--open",
                "--timeout",
                "20s",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        leakguard.scan("login stdout", done.stdout)
        leakguard.scan("login stderr", done.stderr)

        assert done.returncode == 0, done.stderr
        assert "Open this URL in a browser to authorize idp:" in done.stdout
        assert done.stdout.strip().endswith("authorized idp; access token valid for 1h")
        assert (
            invoke(
                ["--config", str(workspace.config_path), "creds", "test", "idp"],
                env={"HOME": str(workspace.home)},
            ).code
            == 0
        )

    def test_login_without_a_browser_times_out_with_exit_1(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Nobody opens the URL: exit 1, and the hint is to run it again."""
        oauth_setup(workspace, oauth_peer, api_peer, make_secret)

        ran = invoke(
            ["--config", str(workspace.config_path), "auth", "login", "idp", "--timeout", "1"],
            env={"HOME": str(workspace.home)},
        )

        assert ran.code == 1
        assert "no authorization arrived within 1s" in ran.stderr
        assert "hint: renewer auth login idp" in ran.stderr
        assert "code_challenge_method=S256" in ran.stdout

    def test_bad_timeout_is_a_usage_error(self, workspace: Workspace) -> None:
        """--timeout soon → exit 2."""
        workspace.write_config()

        ran = invoke(
            ["--config", str(workspace.config_path), "auth", "login", "x", "--timeout", "soon"],
            env={"HOME": str(workspace.home)},
        )

        assert ran.code == 2


class TestImports:
    def test_import_renewer_stays_light(self) -> None:
        """`import renewer` loads neither requests nor Authlib; renewer.bind loads on use."""
        code = (
            "import sys, renewer\n"
            "heavy = {'requests', 'authlib', 'cryptography'} & set(sys.modules)\n"
            "assert not heavy, heavy\n"
            "renewer.bind\n"
            "assert 'requests' in sys.modules\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
