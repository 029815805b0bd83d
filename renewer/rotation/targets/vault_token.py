"""Planned rotation of a token sink's periodic Vault token.

Blue is the token in the sink file; green is minted *with blue's authority*
using the sink's ``mint:`` spec (the same request a heal sends, tagged with
the rotation's name), checked exactly as a heal checks its token (looked up
with itself, then :func:`~renewer.core.heal.accept_minted`), and written
atomically. The ledger keeps the books so sweeps never undo the rotation:

* issue: ``begin_mint`` before the mint, ``minted(green)`` after. Green
  carries meta ``renewer_rotation: <name>``. A run that died around the mint
  is recovered from that journal and that meta only
  (:mod:`renewer.core.leftovers`): nothing is looked for when the journal
  says no mint began, and a token is revoked only when its meta names this
  rotation — never because it merely carries our display name;
* promote: blue's value is kept beside the sink, then ``committed(green)`` and
  ``hold(blue)`` in one ledger write, then the file; blue survives every sweep
  through its grace;
* after the grace: blue revoked by accessor with green's authority, then
  ``release`` and ``revoked``.

The sink's normal renewal (``renewer run`` step 2) keeps working throughout:
it renews whichever token the file holds. A rotation refuses to start while
the sink is unhealthy (drift, expired): that is the heal's job.
"""

from __future__ import annotations

from renewer import crashpoints
from renewer.config import Config, RotationSpec, TokenSink
from renewer.core import ledger as ledger_core
from renewer.core.drift import Verdict, check_drift
from renewer.core.heal import MintRequest, accept_minted, mint_request
from renewer.core.leftovers import plan_leftovers, select_leftovers
from renewer.core.model import TokenInfo
from renewer.core.secret import Secret
from renewer.errors import (
    ReauthRequired,
    RenewerError,
    RotationBlocked,
    Temporary,
    TokenFileError,
)
from renewer.rotation.hooks import check_verdict
from renewer.rotation.plan import SinkView
from renewer.rotation.targets import sinkfiles
from renewer.rotation.targets.base import Green
from renewer.tokens.env import TokenEnv
from renewer.tokens.sweep import full_scan
from renewer.tokens.tokenfile import read_token, write_token
from renewer.vault import HvacVault


class VaultTokenTarget:
    """The periodic token in one token sink."""

    kind = "vault-token"
    noun = "token"

    def __init__(self, rotation: RotationSpec, sink: TokenSink, env: TokenEnv) -> None:
        self.rotation = rotation
        self.sink = sink
        self.env = env
        self._file_token: Secret | None = None
        self._file_accessor = ""

    @classmethod
    def build(cls, rotation: RotationSpec, config: Config, env: TokenEnv) -> VaultTokenTarget:
        return cls(rotation, config.token(rotation.token), env)

    # --- reading the sink ---------------------------------------------------

    def observe(self) -> SinkView:
        self._file_token, self._file_accessor = None, ""
        try:
            token_file = read_token(self.sink.path, sink=self.sink.name)
        except TokenFileError as error:
            return SinkView("", healthy=False, problem=error.message)
        try:
            info = self.env.connection.client(token_file.token).lookup_self()
        except ReauthRequired:
            return SinkView(
                "", healthy=False, problem="the token in the file is expired or revoked"
            )
        self._file_token, self._file_accessor = token_file.token, info.accessor
        verdict = check_drift(info, self.sink.expect, owner=self.env.owner, sink=self.sink.name)
        problem = "" if verdict.ok else f"drift: {verdict.explain()}"
        return SinkView(info.accessor, healthy=verdict.ok, problem=problem)

    def _authority(self) -> HvacVault:
        """A client with the token now in the sink (blue, or green after promotion)."""
        if self._file_token is None:
            raise RotationBlocked(
                f"{self.sink.path} holds no usable token to act with",
                hint=f"renewer run --only {self.sink.name} (it heals), then renewer rotate "
                f"{self.rotation.name}",
            )
        return self.env.connection.client(self._file_token)

    def _put_ledger(self, entry: ledger_core.LedgerEntry) -> None:
        self.env.ledger.put(self.sink.name, entry)

    def _ledger(self) -> ledger_core.LedgerEntry:
        return self.env.ledger.get(self.sink.name)

    # --- the protocol ---------------------------------------------------------

    def check_current(self, blue: str) -> Verdict:
        """Blue was looked up with itself and passed the drift guard when the sink was observed."""
        return Verdict()

    def authority(self, blue: str) -> str:
        return f"the current token {blue}"

    def mint_request(self, blue: str) -> MintRequest:
        """The heal's mint request, tagged with this rotation (a leftover can be traced)."""
        return mint_request(
            self.sink.name, self.sink.mint, owner=self.env.owner, rotation=self.rotation.name
        )

    def issue(self, *, blue: str) -> Green:
        authority = self._authority()
        before = self._ledger()
        self._put_ledger(ledger_core.begin_mint(before))
        try:
            grant = authority.create_orphan(self.mint_request(blue))
        except Temporary:
            raise  # it may exist: mint_started stays set, the leftover sweep finds it
        except RenewerError:
            self._put_ledger(ledger_core.forget_mint_attempt(self._ledger()))
            raise
        crashpoints.reached("rotation.token.minted")
        self._put_ledger(
            ledger_core.minted(
                self._ledger(), grant.accessor, unrecorded_before=before.mint_started
            )
        )
        return Green(grant.accessor, grant.client_token)

    def validate(self, green: Green) -> Verdict:
        client = self.env.connection.client(green.value)
        try:
            info = client.lookup_self()
        except Temporary:
            raise
        except RenewerError as error:
            return Verdict((f"lookup-self with the new token failed: {error.message}",))
        verdict = accept_minted(
            info, self.sink.expect, self.sink.mint, owner=self.env.owner, sink=self.sink.name
        )
        if not verdict.ok:
            return verdict
        if info.accessor != green.identifier:
            return Verdict(
                (f"the new token reports accessor {info.accessor}, not {green.identifier}",)
            )
        return check_verdict(
            self.rotation.check,
            green.value,
            name=self.rotation.name,
            timeout=self.rotation.check_timeout,
            state_dir=self.env.config.state_dir,
        )

    def promote(self, green: Green, *, blue: str) -> None:
        if blue and self._file_token is not None and self._file_accessor == blue:
            sinkfiles.keep_previous(self.sink.path, self._file_token, what="token")
        crashpoints.reached("rotation.token.previous_kept")
        self.confirm_promoted(green=green.identifier, blue=blue)
        crashpoints.reached("rotation.token.ledger_committed")
        write_token(self.sink.path, green.value)
        self._file_token, self._file_accessor = green.value, green.identifier

    def confirm_promoted(self, *, green: str, blue: str) -> None:
        entry = ledger_core.committed(self._ledger(), green)
        self._put_ledger(ledger_core.hold(entry, blue) if blue else entry)

    def restore_blue(self, *, blue: str) -> None:
        value = sinkfiles.read_previous(self.sink.path, what="token")
        if value is None:
            raise RotationBlocked(
                f"cannot roll back: the old token's value is not kept "
                f"({sinkfiles.previous_path(self.sink.path)} is missing)",
                hint=f"the old token {blue} is still valid until its grace ends; to go back by "
                f"hand: vault login, then renewer mint {self.sink.name}",
            )
        info = self.env.connection.client(value).lookup_self()
        if info.accessor != blue:
            raise RotationBlocked(
                f"cannot roll back: {sinkfiles.previous_path(self.sink.path)} holds token "
                f"{info.accessor}, not the old token {blue}",
                hint="look at the file; renewer changed nothing",
            )
        write_token(self.sink.path, value)
        self._file_token, self._file_accessor = value, blue
        self._put_ledger(ledger_core.observe(self._ledger(), blue))

    def revoke_old(self, blue: str) -> bool:
        gone_now = self._authority().revoke_accessor(blue)
        entry = ledger_core.release(self._ledger(), blue)
        self._put_ledger(ledger_core.revoked(entry, blue))
        sinkfiles.drop_previous(self.sink.path)
        return gone_now

    def discard(self, green: str) -> bool:
        gone_now = self._authority().revoke_accessor(green)
        entry = self._ledger()
        if entry.current == green and self._file_accessor:
            entry = ledger_core.observe(entry, self._file_accessor)  # the file kept blue
        self._put_ledger(ledger_core.revoked(entry, green))
        sinkfiles.drop_previous(self.sink.path)
        return gone_now

    def sweep_leftovers(self, *, keep: str) -> int:
        """Revoke what this rotation provably minted and never recorded; nothing else."""
        plan = plan_leftovers(
            self._ledger(), sweep=self.sink.sweep, keep=keep, rotation=self.rotation.name
        )
        if plan.unchecked:
            self.env.notes.append(
                f"{self.sink.name}: {plan.unchecked} (see runbooks/rotation.md#recovery-unchecked)"
            )
        if not keep or (not plan.confirm and not plan.scan):
            return 0
        client = self._authority()
        revoked: list[str] = []
        for accessor in plan.confirm:
            if self._revoke_if_ours(client, accessor, keep=keep):
                revoked.append(accessor)
        if plan.scan:
            revoked += self._scan(client, keep=keep)
        return len(set(revoked))

    def _revoke_if_ours(self, client: HvacVault, accessor: str, *, keep: str) -> bool:
        """Revoke a pending accessor whose meta names this rotation; the ledger forgets it.

        A pending accessor of someone else (a heal that stopped) stays in the
        ledger for the token step, which owns it.
        """
        info = client.lookup_accessor(accessor)
        ours = info is not None and bool(
            select_leftovers(
                [info],
                rotation=self.rotation.name,
                our_display_name=self.sink.expect.display_name,
                keep=keep,
                owner=self.env.owner,
                sink=self.sink.name,
                kept=self._ledger().kept(),
                journal=True,
            )
        )
        if info is not None and not ours:
            return False
        gone_now = ours and client.revoke_accessor(accessor)
        self._put_ledger(ledger_core.revoked(self._ledger(), accessor))
        return gone_now

    def _scan(self, client: HvacVault, *, keep: str) -> list[str]:
        def select(info: TokenInfo) -> bool:
            return bool(
                select_leftovers(
                    [info],
                    rotation=self.rotation.name,
                    our_display_name=self.sink.expect.display_name,
                    keep=keep,
                    owner=self.env.owner,
                    sink=self.sink.name,
                    kept=kept,
                )
            )

        kept = self._ledger().kept()
        report = full_scan(
            client,
            our_display_name=self.sink.expect.display_name,
            keep_accessor=keep,
            dry_run=self.env.dry_run,
            concurrency=self.env.config.run.sweep_concurrency,
            max_accessors=self.env.config.run.sweep_max_accessors,
            time_left=self.env.time_left,
            owner=self.env.owner,
            sink=self.sink.name,
            also_keep=kept,
            select=select,
        )
        if report.skipped or report.incomplete:
            self.env.notes.append(
                f"{self.sink.name}: the scan for a token this rotation may have minted did not "
                f"finish ({report.skipped or report.incomplete}); the ledger keeps the mint "
                "attempt, so the token step's sweep looks again"
            )
        return list(report.revoked)
