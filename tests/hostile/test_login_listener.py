"""Another local user cannot end or stall ``renewer auth login``.

Issue 20, item 6: one request carrying a wrong ``state`` ended the login, and
a connection that sent nothing stalled the single-threaded listener. Here the
other user is played by an unprivileged uid (``setpriv --reuid=1000``) with
the system Python, against the real listener, while the stand-in browser
goes through the real Authlib authorization server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from structlog.testing import capture_logs

from renewer.credentials.login import login
from tests.credentials.test_login import REF, Browser, setup
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace

Secrets = Callable[[str], str]
OTHER_UID = 1000
# The other user's client: a wrong-state redirect, or a connection that sends
# garbage or nothing and stays open until stdin closes.
CLIENT = """\
import socket, sys
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
if mode == "forged":
    s.sendall(b"GET /callback?state=forged&code=stolen HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
    print(s.recv(4096).split(b"\\r\\n")[0].decode(), flush=True)
else:
    if mode == "garbage":
        s.sendall(b"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03garbage")
    print("connected", flush=True)
    sys.stdin.read()
"""

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="playing another local user needs root and setpriv",
)


def as_other_user(mode: str, redirect_uri: str) -> subprocess.Popen[str]:
    """The other user's client, started as uid 1000 with the system Python."""
    port = str(urlsplit(redirect_uri).port)
    setpriv = ["setpriv", f"--reuid={OTHER_UID}", f"--regid={OTHER_UID}", "--clear-groups"]
    return subprocess.Popen(
        [*setpriv, "/usr/bin/python3", "-c", CLIENT, "127.0.0.1", port, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def others() -> Iterator[list[subprocess.Popen[str]]]:
    """The other user's clients; each is ended (stdin closed, pipes drained) afterwards."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.communicate(timeout=10)


@needs_root
def test_a_forged_redirect_is_logged_and_the_real_one_still_completes_the_login(
    workspace: Workspace,
    oauth_peer: OAuthPeer,
    api_peer: ApiPeer,
    make_secret: Secrets,
    others: list[subprocess.Popen[str]],
) -> None:
    """The other user's wrong-state request gets a 400; the person's login goes through."""
    setup(workspace, oauth_peer, api_peer, make_secret)
    answers: list[str] = []

    def announce(_: str, redirect_uri: str) -> None:
        forged = as_other_user("forged", redirect_uri)
        others.append(forged)
        assert forged.stdout is not None
        answers.append(forged.stdout.readline().strip())

    browser = Browser()
    with capture_logs() as events:
        runtime = login(workspace.open("idp"), announce=announce, open_browser=browser, timeout=20)
    browser.join()

    assert answers == ["HTTP/1.0 400 Bad Request"]
    assert runtime.access_token is not None
    assert workspace.runtime(REF).access_token == runtime.access_token
    assert browser.statuses == [200]
    refused = [event for event in events if event["event"] == "credential.login_refused"]
    assert len(refused) == 1
    assert "stolen" not in str(events)


@needs_root
@pytest.mark.parametrize("modes", [["silent"], ["garbage"], ["silent"] * 20 + ["garbage"] * 20])
def test_stalled_and_garbage_connections_do_not_hold_up_the_browser(
    *,
    workspace: Workspace,
    oauth_peer: OAuthPeer,
    api_peer: ApiPeer,
    make_secret: Secrets,
    others: list[subprocess.Popen[str]],
    modes: list[str],
) -> None:
    """Connections that send nothing or garbage stay open while the login completes."""
    setup(workspace, oauth_peer, api_peer, make_secret)

    def announce(_: str, redirect_uri: str) -> None:
        for mode in modes:
            client = as_other_user(mode, redirect_uri)
            others.append(client)
            assert client.stdout is not None
            assert client.stdout.readline().strip() == "connected"

    browser = Browser()
    runtime = login(workspace.open("idp"), announce=announce, open_browser=browser, timeout=20)
    browser.join()

    assert runtime.access_token is not None
    assert browser.statuses == [200]
    assert all(client.poll() is None for client in others), "a staller was not still connected"


def test_a_stalled_connection_is_cut_off_by_the_listener(
    workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
) -> None:
    """The listener closes a connection that sends nothing (the per-connection timeout)."""
    from renewer.credentials import login as login_module
    from renewer.credentials.login import CallbackServer

    server = CallbackServer(expected_state="s")
    try:
        port = urlsplit(server.redirect_uri).port
        with socket.create_connection(("127.0.0.1", port or 0)) as stalled:
            stalled.settimeout(login_module.CONNECTION_TIMEOUT * 4)
            assert stalled.recv(1) == b"", "the listener kept a silent connection open"
    finally:
        server.close()
