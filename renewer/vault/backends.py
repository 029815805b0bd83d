"""One mount reached with one sink's token: the adapters the secret store and the
mtls primitive are given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from renewer.config import Config, TokenSink
from renewer.core.certs import IssuedCertificate
from renewer.errors import ReauthRequired
from renewer.vault.client import HvacVault, VaultConnection
from renewer.vault.transport import RetryPolicy


@contextlib.contextmanager
def _sink_token(sink: str, recovery: str) -> Iterator[None]:
    """A dead token names the sink it came from, and the commands that bring it back."""
    try:
        yield
    except ReauthRequired as error:
        if sink:
            error.message = f"{error.message} (the token of sink {sink!r})"
            error.hint = f"log in again and re-mint it: {recovery or f'renewer mint {sink}'}"
        raise


class KVv2:
    """A KV v2 mount reached with one token: the secret store's ``KVBackend`` on hvac."""

    def __init__(
        self, client: HvacVault, mount: str, *, sink: str = "", recovery: str = ""
    ) -> None:
        self._client = client
        self._mount = mount
        self._sink = sink
        self._recovery = recovery

    def read(self, path: str) -> tuple[dict[str, str], int] | None:
        with _sink_token(self._sink, self._recovery):
            return self._client.kv_read(self._mount, path)

    def write(self, path: str, data: dict[str, str], *, cas: int) -> int:
        with _sink_token(self._sink, self._recovery):
            return self._client.kv_write(self._mount, path, data, cas=cas)


def _sink_client(config: Config, token_sink: str) -> tuple[TokenSink, HvacVault, str]:
    """The sink, a client with the token in its file (renewed earlier in the run), and the
    commands that give it a new token."""
    from renewer.tokens.results import recovery_command
    from renewer.tokens.tokenfile import read_token

    sink = config.token(token_sink)
    token = read_token(sink.path, sink=sink.name).token
    connection = VaultConnection(config.vault, RetryPolicy.starting_now(config.run.deadline))
    return sink, connection.client(token), recovery_command(sink, home=config.home)


def kv_backend(config: Config, *, mount: str, token_sink: str) -> KVv2:
    """KV v2 on *mount* with the token in *token_sink*'s file."""
    sink, client, recovery = _sink_client(config, token_sink)
    return KVv2(client, mount, sink=sink.name, recovery=recovery)


class PkiIssuer:
    """One PKI mount reached with one token: what the mtls primitive renews from."""

    def __init__(
        self, client: HvacVault, mount: str, *, sink: str = "", recovery: str = ""
    ) -> None:
        self._client = client
        self.mount = mount
        self._sink = sink
        self._recovery = recovery

    def issue(
        self,
        role: str,
        *,
        common_name: str,
        ttl: int | None = None,
        alt_names: tuple[str, ...] = (),
        ip_sans: tuple[str, ...] = (),
    ) -> IssuedCertificate:
        with _sink_token(self._sink, self._recovery):
            return self._client.pki_issue(
                self.mount,
                role,
                common_name=common_name,
                ttl=ttl,
                alt_names=alt_names,
                ip_sans=ip_sans,
            )


def pki_issuer(config: Config, *, mount: str, token_sink: str) -> PkiIssuer:
    """PKI on *mount* with the token in *token_sink*'s file."""
    sink, client, recovery = _sink_client(config, token_sink)
    return PkiIssuer(client, mount, sink=sink.name, recovery=recovery)
