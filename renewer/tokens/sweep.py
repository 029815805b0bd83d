"""The anti-sprawl sweep's I/O: confirm and revoke stale accessors of ours.

Two sources of candidates, one decision (``renewer.core.sweep.is_stale``):

* the **ledger**: accessors renewer itself saw (minted, or found healthy) and
  that were superseded. Each is confirmed with ``lookup-accessor`` before it
  is revoked, so a damaged ledger can never revoke a foreign token. Cost:
  two requests per stale token, independent of the size of the Vault;
* the **full scan** (seed 003): ``LIST auth/token/accessors`` then
  ``lookup-accessor`` on each, with bounded concurrency and a bounded number
  of requests in flight, so a Vault with 100k tokens costs neither 100k
  futures of memory nor a thundering herd. It needs ``list`` + ``sudo`` on
  ``auth/token/accessors``; when denied it is skipped with a warning.

The token kept (the one now in the file) is never looked up nor revoked, and
an empty keep-accessor sweeps nothing. Tokens named like ours but marked by
another renewer (another machine, home or sink: ``renewer.core.owner``) are
never revoked; the full scan counts them, so the report can say they were
left alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from renewer.config import TokenSink
from renewer.core import ledger as ledger_core
from renewer.core.model import TokenInfo
from renewer.core.owner import Ownership, ownership
from renewer.core.sweep import BY_LEDGER, BY_SCAN, SweepReport, is_stale, scan_scope
from renewer.errors import RenewerError, VaultDenied, VaultError
from renewer.vault import HvacVault

if TYPE_CHECKING:
    from renewer.tokens.env import TokenEnv


def sweep_ledger(
    client: HvacVault,
    candidates: Iterable[str],
    *,
    our_display_name: str,
    keep_accessor: str,
    dry_run: bool,
    owner: str,
    sink: str,
    also_keep: frozenset[str] = frozenset(),
) -> SweepReport:
    """Confirm and revoke the ledger's superseded accessors (``BY_LEDGER`` owner marks)."""
    if not keep_accessor:
        return SweepReport(skipped="the current token's accessor is unknown")
    revoked: list[str] = []
    gone: list[str] = []
    for accessor in candidates:
        if accessor == keep_accessor or accessor in also_keep:
            continue
        try:
            info = client.lookup_accessor(accessor)
            if info is None or not is_stale(
                info,
                our_display_name=our_display_name,
                keep_accessor=keep_accessor,
                also_keep=also_keep,
                owner=owner,
                sink=sink,
                may_revoke=BY_LEDGER,
            ):
                gone.append(accessor)
                continue
            if not dry_run and not client.revoke_accessor(accessor):
                gone.append(accessor)
                continue
        except RenewerError as error:
            return SweepReport(revoked=tuple(revoked), gone=tuple(gone), incomplete=error.message)
        revoked.append(accessor)
    return SweepReport(revoked=tuple(revoked), gone=tuple(gone))


class _Scan:
    """Shared state of one full scan's workers."""

    def __init__(
        self,
        our_display_name: str,
        keep_accessor: str,
        also_keep: frozenset[str],
        dry_run: bool,
        *,
        owner: str,
        sink: str,
        select: Callable[[TokenInfo], bool] | None = None,
        may_revoke: frozenset[Ownership] = BY_SCAN,
    ) -> None:
        self.select = select
        self.may_revoke = may_revoke
        self.our_display_name = our_display_name
        self.owner = owner
        self.sink = sink
        self.keep_accessor = keep_accessor
        self.also_keep = also_keep
        self.dry_run = dry_run
        self.stop = threading.Event()
        self.problem = ""
        self.revoked: list[str] = []
        self.ours_seen = 0  # named like ours, stale
        self.held_seen = 0  # named like ours, held on purpose (rotation grace)
        self.elsewhere = 0  # named like ours, another renewer's (or a pre-marks release's)
        self.unmarked_kept = 0  # named like ours, unmarked, outside may_revoke
        self.scanned = 0
        self._lock = threading.Lock()

    def examine(self, client: HvacVault, accessor: str) -> None:
        if self.stop.is_set():
            return
        try:
            info: TokenInfo | None = client.lookup_accessor(accessor)
            if info is not None and self.select is not None:
                stale = self.select(info)
            else:
                stale = info is not None and is_stale(
                    info,
                    our_display_name=self.our_display_name,
                    keep_accessor=self.keep_accessor,
                    also_keep=self.also_keep,
                    owner=self.owner,
                    sink=self.sink,
                    may_revoke=self.may_revoke,
                )
            held = info is not None and info.accessor in self.also_keep
            named = info is not None and not held and info.display_name == self.our_display_name
            marks = ownership(info.metadata, owner=self.owner, sink=self.sink) if info else None
            with self._lock:
                self.scanned += 1
                self.ours_seen += stale
                self.held_seen += held
                self.elsewhere += named and marks not in BY_SCAN
                self.unmarked_kept += named and not stale and marks is Ownership.UNMARKED
            if stale and (self.dry_run or client.revoke_accessor(accessor)):
                with self._lock:
                    self.revoked.append(accessor)
        except RenewerError as error:
            with self._lock:
                self.problem = self.problem or error.message
            self.stop.set()

    def ours_remaining(self) -> int:
        """Tokens named like ours left after the scan (projected, in a dry run): 1 is right."""
        return 1 + self.held_seen + self.ours_seen - len(self.revoked)


def full_scan(
    client: HvacVault,
    *,
    our_display_name: str,
    keep_accessor: str,
    dry_run: bool,
    concurrency: int,
    max_accessors: int,
    time_left: Callable[[], float],
    owner: str,
    sink: str,
    also_keep: frozenset[str] = frozenset(),
    skip: frozenset[str] = frozenset(),
    select: Callable[[TokenInfo], bool] | None = None,
    may_revoke: frozenset[Ownership] = BY_SCAN,
) -> SweepReport:
    """The seed's sweep over every accessor in Vault, bounded in memory, time and rate.

    *skip*: accessors not even looked up (the clobbering token a heal spares).
    *select* replaces the stale rule when a caller revokes by another proof
    (a rotation's recovery: the token's meta names the rotation).
    """
    if not keep_accessor:
        return SweepReport(skipped="the current token's accessor is unknown")
    try:
        accessors = client.list_accessors()
    except VaultDenied:
        return SweepReport(skipped="listing accessors was denied (needs list + sudo)")
    except VaultError as error:
        return SweepReport(skipped=error.message)
    if len(accessors) > max_accessors:
        return SweepReport(
            skipped=f"{len(accessors)} accessors exceed run.sweep_max_accessors ({max_accessors})"
        )
    scan = _Scan(
        our_display_name,
        keep_accessor,
        also_keep,
        dry_run,
        owner=owner,
        sink=sink,
        select=select,
        may_revoke=may_revoke,
    )
    in_flight: set[Future[None]] = set()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sweep") as pool:
        for accessor in accessors:
            if accessor == keep_accessor or accessor in skip:
                continue
            if scan.stop.is_set():
                break
            if time_left() <= 0:
                scan.problem = scan.problem or "the run's deadline passed"
                break
            if len(in_flight) >= concurrency * 2:
                _, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            in_flight.add(pool.submit(scan.examine, client, accessor))
        wait(in_flight)
    return SweepReport(
        revoked=tuple(scan.revoked),
        scanned=scan.scanned,
        ours_remaining=None if scan.problem else scan.ours_remaining(),
        elsewhere=scan.elsewhere,
        unmarked_kept=scan.unmarked_kept,
        incomplete=scan.problem,
    )


def run_sweep(
    sink: TokenSink,
    env: TokenEnv,
    client: HvacVault,
    *,
    keep_accessor: str,
    full: bool,
    spare: frozenset[str] = frozenset(),
    by_hand: bool = False,
) -> SweepReport:
    """Ledger sweep, then (when *full*) the full scan; the ledger forgets what is gone.

    *spare*: accessors never revoked here whatever their name (the clobbering
    token a heal acted with: it may back a live login). What the scan may
    revoke follows the sink's sweep mode (:func:`renewer.core.sweep.scan_scope`);
    *by_hand*: ``renewer sweep --full``, which sweeps strays in every mode.
    """
    entry = env.ledger.get(sink.name)
    spare = spare - {""}
    report = sweep_ledger(
        client,
        entry.sweep_candidates(),
        our_display_name=sink.expect.display_name,
        keep_accessor=keep_accessor,
        dry_run=env.dry_run,
        owner=env.owner,
        sink=sink.name,
        also_keep=entry.kept() | spare,
    )
    if full and not report.incomplete:
        report = report.merge(
            full_scan(
                client,
                our_display_name=sink.expect.display_name,
                keep_accessor=keep_accessor,
                dry_run=env.dry_run,
                concurrency=env.config.run.sweep_concurrency,
                max_accessors=env.config.run.sweep_max_accessors,
                time_left=env.time_left,
                owner=env.owner,
                sink=sink.name,
                also_keep=entry.kept(),
                skip=spare,
                may_revoke=scan_scope(sink.sweep, by_hand=by_hand),
            )
        )
    if not env.dry_run:
        entry = ledger_core.revoked(env.ledger.get(sink.name), *report.revoked, *report.gone)
        if full and not report.incomplete and not report.skipped:
            entry = ledger_core.forget_mint_attempt(entry)
        env.ledger.put(sink.name, entry)
    return report
