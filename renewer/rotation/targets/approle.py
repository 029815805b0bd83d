"""Rotation of an AppRole secret-id written to a file.

Blue is the secret-id in ``secret_id_file`` (identified by its accessor, which
a lookup by value returns); green is generated with the authority of the
token in the configured token sink, tagged with metadata naming this
rotation, this file and this host. Validation is a real login with the
role-id and green (the login token is revoked at once), then the optional
check command. Promotion keeps blue's value beside the file, writes the
role-id file if it is missing or stale, then the secret-id file. After the
grace, blue is destroyed by accessor.

A missing secret-id file, or one Vault no longer knows, does not block a
rotation: issuing a new secret-id is exactly the repair. A run that died
while generating leaves a secret-id nobody recorded; the leftover sweep lists
the role's accessors and destroys only those whose metadata names this
rotation, file and host — never another machine's or another tool's.
"""

from __future__ import annotations

import socket

from renewer import crashpoints
from renewer.config import Config, RotationSpec, TokenSink
from renewer.core.drift import Verdict
from renewer.core.heal import MINTED_BY
from renewer.core.secret import Secret
from renewer.errors import RenewerError, RotationBlocked, Temporary
from renewer.rotation.hooks import check_verdict
from renewer.rotation.plan import SinkView
from renewer.rotation.targets import sinkfiles
from renewer.rotation.targets.base import Green
from renewer.tokens.env import TokenEnv
from renewer.tokens.tokenfile import read_token
from renewer.vault import HvacVault

WHAT = "secret-id"


class AppRoleTarget:
    """One AppRole role's secret-id, kept in a file."""

    kind = "approle"
    noun = "secret-id"

    def __init__(self, rotation: RotationSpec, authority: TokenSink, env: TokenEnv) -> None:
        if rotation.secret_id_file is None:  # pragma: no cover - config requires it
            raise RotationBlocked(f"rotation {rotation.name!r} has no secret_id_file")
        self.rotation = rotation
        self.authority_sink = authority
        self.env = env
        self.path = rotation.secret_id_file
        self._vault: HvacVault | None = None
        self._current: Secret | None = None
        self._current_accessor = ""
        self._num_uses: dict[str, int] = {}

    @classmethod
    def build(cls, rotation: RotationSpec, config: Config, env: TokenEnv) -> AppRoleTarget:
        return cls(rotation, config.token(rotation.token), env)

    @property
    def metadata(self) -> dict[str, str]:
        return {
            "created-by": MINTED_BY,
            "rotation": self.rotation.name,
            "file": str(self.path),
            "host": socket.gethostname(),
        }

    def _client(self) -> HvacVault:
        """A client with the authority sink's token (read once per run)."""
        if self._vault is None:
            sink = self.authority_sink
            token = read_token(sink.path, sink=sink.name).token
            self._vault = self.env.connection.client(token)
        return self._vault

    def _api(self) -> tuple[HvacVault, str, str]:
        return self._client(), self.rotation.mount, self.rotation.role

    # --- the protocol ---------------------------------------------------------

    def observe(self) -> SinkView:
        self._current, self._current_accessor = None, ""
        value = sinkfiles.read_value(self.path, what=WHAT)
        if value is None:
            return SinkView("", healthy=True, problem=f"{self.path} does not exist yet")
        client, mount, role = self._api()
        info = client.approle_lookup_secret_id(mount, role, value)
        if info is None:
            problem = f"{self.path} holds a secret-id Vault does not know (expired or destroyed)"
            return SinkView("", healthy=True, problem=problem)
        self._current, self._current_accessor = value, info.accessor
        return SinkView(info.accessor, healthy=True)

    def check_current(self, blue: str) -> Verdict:
        """Blue was looked up by value when the sink was observed; a login would spend a use."""
        return Verdict()

    def authority(self, blue: str) -> str:
        sink = self.authority_sink
        return f"the token in {sink.path} (token sink {sink.name!r})"

    def issue(self, *, blue: str) -> Green:
        client, mount, role = self._api()
        grant = client.approle_generate_secret_id(mount, role, metadata=self.metadata)
        self._num_uses[grant.accessor] = grant.num_uses
        return Green(grant.accessor, grant.secret_id)

    def validate(self, green: Green) -> Verdict:
        if self._num_uses.get(green.identifier) == 1:
            return Verdict(
                (
                    "the role gives secret-ids a single use (secret_id_num_uses: 1): validating "
                    "it by logging in would use it up; set secret_id_num_uses to 0 or more than 1",
                )
            )
        client, mount, role = self._api()
        role_id = client.approle_role_id(mount, role)
        try:
            login = self.env.connection.client(None).approle_login(mount, role_id, green.value)
        except Temporary:
            raise
        except RenewerError as error:
            return Verdict((f"login with the new secret-id failed: {error.message}",))
        try:
            self.env.connection.client(login.client_token).revoke_self()
        except RenewerError as error:
            self.env.notes.append(
                f"the validation login token {login.accessor} could not be revoked "
                f"({error.message}); it expires with the role's token_ttl"
            )
        return check_verdict(
            self.rotation.check,
            green.value,
            name=self.rotation.name,
            timeout=self.rotation.check_timeout,
            state_dir=self.env.config.state_dir,
        )

    def promote(self, green: Green, *, blue: str) -> None:
        if blue and self._current is not None and self._current_accessor == blue:
            sinkfiles.keep_previous(self.path, self._current, what=WHAT)
        crashpoints.reached("rotation.approle.previous_kept")
        self._write_role_id()
        sinkfiles.write_value(self.path, green.value, what=WHAT)
        self._current, self._current_accessor = green.value, green.identifier

    def _write_role_id(self) -> None:
        path = self.rotation.role_id_file
        if path is None:
            return
        client, mount, role = self._api()
        role_id = Secret(client.approle_role_id(mount, role))
        if sinkfiles.read_value(path, what="role-id") != role_id:
            sinkfiles.write_value(path, role_id, what="role-id")

    def confirm_promoted(self, *, green: str, blue: str) -> None:
        """Nothing to record: the file is the only book an AppRole rotation keeps."""

    def restore_blue(self, *, blue: str) -> None:
        value = sinkfiles.read_previous(self.path, what=WHAT)
        client, mount, role = self._api()
        info = None if value is None else client.approle_lookup_secret_id(mount, role, value)
        if value is None or info is None or info.accessor != blue:
            raise RotationBlocked(
                f"cannot roll back: {sinkfiles.previous_path(self.path)} does not hold the old "
                f"secret-id {blue}",
                hint="look at the file; renewer changed nothing",
            )
        sinkfiles.write_value(self.path, value, what=WHAT)
        self._current, self._current_accessor = value, blue

    def revoke_old(self, blue: str) -> bool:
        client, mount, role = self._api()
        gone_now = client.approle_destroy_accessor(mount, role, blue)
        sinkfiles.drop_previous(self.path)
        return gone_now

    def discard(self, green: str) -> bool:
        client, mount, role = self._api()
        gone_now = client.approle_destroy_accessor(mount, role, green)
        sinkfiles.drop_previous(self.path)
        return gone_now

    def sweep_leftovers(self, *, keep: str) -> int:
        client, mount, role = self._api()
        ours = self.metadata
        destroyed = 0
        for accessor in client.approle_list_accessors(mount, role):
            if accessor == keep:
                continue
            info = client.approle_lookup_accessor(mount, role, accessor)
            if info is None or any(info.metadata.get(k) != v for k, v in ours.items()):
                continue
            destroyed += client.approle_destroy_accessor(mount, role, accessor)
        return destroyed
