"""Every ```sh block of runbooks/credentials.md runs, as written, against the local peers.

Each block runs in ``sh`` with ``renewer`` on PATH, ``$NAME`` an OAuth2
credential already logged in at the local authorization server and
``$RECIPE`` its recipe. A line of output that is a loopback authorize URL
(``renewer auth login``) is visited by a stand-in browser. Prompts read
stdin (the client id and secret). Blocks that call a renewer command this
build does not have yet (``renewer run`` arrives with the run wiring) are
skipped, and say so. Blocks fenced ``sh <harness>`` (``systemd``, ``aws``,
``mtls``, ``google``) need more than these peers and run elsewhere
(tests/runbooks/extract.py: HARNESSES).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from renewer.cli import cli
from tests import leakguard
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "runbooks" / "credentials.md"
Secrets = Callable[[str], str]


def sh_blocks() -> list[tuple[str, str]]:
    """(section heading, block) for every ```sh block, in order."""
    blocks: list[tuple[str, str]] = []
    section = ""
    inside: list[str] | None = None
    for line in RUNBOOK.read_text().splitlines():
        stripped = line.strip()
        if line.startswith("## "):
            section = line[3:]
        elif inside is None and stripped == "```sh":
            inside = []
        elif inside is not None and stripped == "```":
            blocks.append((section, "\n".join(inside)))
            inside = None
        elif inside is not None:
            inside.append(stripped)
    return blocks


BLOCKS = sh_blocks()


class TestRunbook:
    def test_runbook_has_the_anchors_errors_point_at(self) -> None:
        """Each runbook reference of the credential errors is a heading here."""
        from renewer import errors

        anchors = {
            re.sub(r"[^a-z0-9 -]", "", line[3:].lower()).replace(" ", "-")
            for line in RUNBOOK.read_text().splitlines()
            if line.startswith("## ")
        }
        wanted = {
            cls.reference
            for cls in vars(errors).values()
            if isinstance(cls, type)
            and issubclass(cls, errors.RenewerError)
            and cls.runbook == "credentials.md"
        }
        assert wanted == {
            "credential-failed",
            "credential-reauth",
            "hook-failed",
            "recipe-invalid",
            "service-unreachable",
        }
        assert wanted <= anchors

    @pytest.mark.parametrize("case", BLOCKS, ids=[f"{s}-{i}" for i, (s, _) in enumerate(BLOCKS)])
    def test_block_runs_against_local_peers(
        self,
        case: tuple[str, str],
        workspace: Workspace,
        oauth_peer: OAuthPeer,
        api_peer: ApiPeer,
        make_secret: Secrets,
    ) -> None:
        """The block exits 0, prints no secret, and needs nothing but what the runbook says."""
        section, block = case
        missing = [
            name for name in re.findall(r"\brenewer (\w+)", block) if name not in cli.commands
        ]
        if missing:
            pytest.skip(f"renewer {missing[0]} is not in this build yet")
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
        token = oauth_peer.issue("renewer-test")
        workspace.login_state("idp/main", token.access_token, token.refresh_token)
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(workspace.home),
            "RENEWER_CONFIG": str(workspace.config_path),
            "NAME": "idp",
            "RECIPE": "idp",
            "LANG": "C.UTF-8",
        }

        code, stdout, stderr = run_block(block, env, stdin=f"renewer-test\n{secret}\n" * 2)

        leakguard.scan(f"runbook {section} stdout", stdout)
        leakguard.scan(f"runbook {section} stderr", stderr)
        assert code == 0, f"{block}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        for word in ("Traceback", "internal error", "Usage:", "not found"):
            assert word not in stderr


def run_block(block: str, env: dict[str, str], *, stdin: str) -> tuple[int, str, str]:
    """Run *block* with ``sh -e`` in a new session (no terminal: prompts read stdin)."""
    with subprocess.Popen(
        ["sh", "-e", "-c", block],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        # A block that reads no input (chmod …) may exit before the write: EPIPE is its
        # answer, not a failure (the close flushes, so it may raise too; it closes anyway).
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(stdin)
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))  # type: ignore[union-attr]
        reader.start()
        lines = []
        for line in process.stdout:
            lines.append(line)
            url = line.strip()
            if url.startswith("http://127.0.0.1") and "/authorize?" in url:
                threading.Thread(target=_visit, args=(url,)).start()
        code = process.wait(timeout=60)
        reader.join(10)
    return code, "".join(lines), "".join(errors)


def _visit(url: str) -> None:
    """The stand-in browser: follow the authorize URL to the loopback callback."""
    requests.get(url, timeout=10).close()
