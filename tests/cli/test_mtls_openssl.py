"""mtls against `openssl s_server -Verify 1 -www` (issue 16, item 6), through the CLI.

OpenSSL's server requires a client certificate from its CA and answers GET
only. The test used to wait 10 s on a HEAD that s_server never answers, then
fail although the handshake and the client certificate had succeeded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.cli.helpers import Ran, invoke
from tests.keys import client_cert
from tests.peers.openssl_server import OpensslServer
from tests.workspace import Workspace


def renewer(workspace: Workspace, *args: str, input: str | None = None) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", "json", *args],
        input=input,
        env={"HOME": str(workspace.home)},
    )


class World:
    def __init__(self, workspace: Workspace, tmp_path: Path) -> None:
        self.workspace = workspace
        self.server_ca = trustme.CA()
        self.client_ca = trustme.CA()
        self.server = OpensslServer(
            tmp_path / "s_server",
            server_ca=self.server_ca,
            client_ca_pem=self.client_ca.cert_pem.bytes().decode(),
        )

    def recipe(self, test: str = "") -> None:
        self.workspace.recipe(
            "bank",
            f"extends: _mtls_base\nservice: bank\nversion: 1\n"
            f"base_url: {self.server.base_url}\n{test}",
        )
        if not self.workspace.credentials:
            self.workspace.credential("bank", "bank", "bank/main")

    def store(self, ca: trustme.CA, **times: float) -> Ran:
        cert, key = client_cert(ca, "devvm", **times)
        values = {
            "client_cert": cert,
            "client_key": key,
            "ca_cert": self.server_ca.cert_pem.bytes().decode(),
        }
        return renewer(self.workspace, "creds", "set", "bank", "--stdin", input=json.dumps(values))


@pytest.fixture
def world(workspace: Workspace, tmp_path: Path) -> Iterator[World]:
    made = World(workspace, tmp_path)
    try:
        yield made
    finally:
        made.server.stop()


def test_the_handshake_alone_passes_without_a_recipe_test(world: World) -> None:
    """No test in the recipe: the handshake and a GET probe, answered at once."""
    world.recipe()
    assert world.store(world.client_ca).code == 0

    tested = renewer(world.workspace, "creds", "test", "bank")

    assert tested.code == 0, tested.stdout + tested.stderr
    assert tested.stdout.startswith("PASS bank: TLS handshake with the client certificate")


def test_the_recipe_test_runs_over_the_client_certificate(world: World) -> None:
    """s_server's status page for GET /: the recipe's call passes too."""
    world.recipe("test: {method: GET, path: /, expect_status: 200}\n")
    world.store(world.client_ca)

    tested = renewer(world.workspace, "creds", "test", "bank")

    assert tested.code == 0, tested.stdout + tested.stderr
    assert tested.stdout.startswith("PASS bank: TLS handshake, GET / → HTTP 200")


def test_a_certificate_from_another_ca_is_refused_and_said_plainly(world: World) -> None:
    """s_server refuses it; no 'HTTP None' in the verdict."""
    world.recipe("test: {method: GET, path: /, expect_status: 200}\n")
    world.store(trustme.CA())

    tested = renewer(world.workspace, "creds", "test", "bank")

    assert tested.code == 1
    assert tested.stdout.startswith("FAIL bank: TLS handshake, GET /\n")
    assert "HTTP None" not in tested.stdout
    assert "alert" in tested.stdout or "refused the client certificate" in tested.stdout, (
        tested.stdout
    )


@pytest.mark.parametrize(
    ("times", "words"),
    [
        ({"not_before": time.time() - 7200, "not_after": time.time() - 3600}, "expired at"),
        ({"not_before": time.time() + 86400}, "not valid before"),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_creds_set_warns_about_a_certificate_that_cannot_work(
    world: World, times: dict[str, float], words: str
) -> None:
    """Stored (the person may know better), but said at once, on stderr."""
    world.recipe()

    ran = world.store(world.client_ca, **times)

    assert ran.code == 0
    assert "warning: bank: client_cert: the certificate" in ran.stderr
    assert words in ran.stderr
    assert "the service will refuse it" in ran.stderr
