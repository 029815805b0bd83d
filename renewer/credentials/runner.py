"""Step 4 of ``renewer run``: every credential, isolated from the others.

For each configured credential (product.md §1.4):

1. open it: its recipe (a ``RecipeError`` fails this item only, exit 78)
   and its secret (missing → the ``creds set`` command);
2. decide (pure) and, when due, refresh under the credential's lock;
3. test, as ``test:`` says: ``always``; ``after-refresh`` (the default:
   when what the sinks get changed: a refresh, or a new key); ``never``.
   A 401 on an OAuth2 or JWT service-account test causes one forced
   refresh and a second test; mtls credentials always have a test (the
   handshake);
4. write the sinks whose content changed; a failed test writes nothing;
5. run the hooks, only if a sink was written (or, with no sinks, if a
   refresh happened), or if they have not succeeded since their sinks last
   changed: a marker in the state dir is written *before* the sinks (and
   removed when the hooks succeed), so a failed hook, or a crash between
   the sinks and the hooks, makes every later run retry them; the sinks
   they react to will not change again by themselves.

A plan that carries a warning (a certificate in its renewal window that no
``pki:`` can renew) is still used, and the item ends as a warning
(``credential.expiring``): exit 0, but ``status`` and the log say a person
should act soon.

Each credential gives one ``ItemResult`` with a stable event name and a
one-sentence summary; the caller logs them and computes the exit code (the
worst outcome). ``dry_run`` decides and reports, and contacts nothing and
writes nothing: no refresh, no test, no sink, no hook.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from renewer import crashpoints
from renewer.core.outcome import ItemResult, Outcome
from renewer.credentials.handle import Credential
from renewer.credentials.hooks import run_hook
from renewer.credentials.opening import catalog_for, open_credential
from renewer.credentials.results import KIND, Done, failure_result, success_result
from renewer.credentials.sinks import SinkContent, needs_write, sink_content, write_sink
from renewer.credentials.spec import CredentialSpec, TestPolicy
from renewer.errors import CredentialError, HookFailed, RenewerError
from renewer.files import ensure_private_dir, write_atomic
from renewer.primitives.base import Action, CredentialState
from renewer.primitives.http import Http, RetryPolicy

if TYPE_CHECKING:
    import requests

    from renewer.config import Config
    from renewer.recipes.loader import RecipeCatalog
    from renewer.secretstore import KVBackendFactory, Stores

log = structlog.get_logger("renewer")


def run_credentials(
    config: Config,
    *,
    only: Collection[str] | None = None,
    dry_run: bool = False,
    now: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
    policy: RetryPolicy | None = None,
    kv_backend: KVBackendFactory | None = None,
    session: requests.Session | None = None,
) -> list[ItemResult]:
    """Process every configured credential (or those named in *only*); one result each."""
    from renewer.bounded_http import service_session
    from renewer.secretstore import Stores

    policy = policy or RetryPolicy()
    http = Http(
        session=session or service_session(answer_seconds=policy.deadline),
        policy=policy,
        now=now,
        sleep=sleep,
        rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
    )
    run = _Run(config, Stores(config, kv_backend=kv_backend), http, catalog_for(config), dry_run)
    return [
        run.item(spec)
        for spec in config.credentials.credentials
        if only is None or spec.name in only
    ]


class _Run:
    def __init__(
        self, config: Config, stores: Stores, http: Http, catalog: RecipeCatalog, dry_run: bool
    ) -> None:
        self.config = config
        self.stores = stores
        self.http = http
        self.catalog = catalog
        self.dry_run = dry_run

    def item(self, spec: CredentialSpec) -> ItemResult:
        """One credential, isolated: any failure becomes this item's result."""
        try:
            credential = open_credential(
                self.config, spec, stores=self.stores, http=self.http, catalog=self.catalog
            )
            if self.dry_run:
                return self._dry(credential)
            return self._process(credential)
        except RenewerError as error:
            return failure_result(spec.name, error)
        except Exception as error:  # a bug must not stop the other credentials
            log.exception("credential.failed", credential=spec.name)
            return ItemResult(
                KIND,
                spec.name,
                Outcome.NEEDS_HUMAN,
                "credential.failed",
                f"{spec.name}: internal error ({type(error).__name__}); this is a bug in renewer.",
            )

    def _process(self, credential: Credential) -> ItemResult:
        done = Done()
        fresh = credential.ensure_fresh()  # decides, and refreshes under the lock when due
        state, done.refreshed = fresh.state, fresh.refreshed
        changed = _changed_sinks(credential, state)
        if self._should_test(credential, done.refreshed or bool(changed)):
            state, failed = self._test(credential, state, done)
            if failed is not None:
                return failed
            changed = _changed_sinks(credential, state)  # a 401 may have forced a refresh
        pending = self._pending_marker(credential)
        if changed and credential.spec.hooks:
            _mark(pending)  # before the sinks: a crash after them still runs the hooks
            crashpoints.reached("credential.hooks_marked")
        for content in changed:
            write_sink(content, credential=credential.name)
            done.written.append(content)
            log.info(
                "sink.written",
                credential=credential.name,
                path=str(content.path),
                type=content.type,
            )
        crashpoints.reached("credential.sinks_written")
        wanted = done.written or (done.refreshed and not credential.spec.sinks)
        if credential.spec.hooks and (wanted or pending.exists()):
            self._hooks(credential, done, pending)
        return success_result(credential, state, done, warning=fresh.plan.warning)

    def _pending_marker(self, credential: Credential) -> Path:
        """Exists from just before a sink write until the hooks succeed."""
        return self.config.state_dir / "credentials" / f"{credential.name}.hooks-pending"

    def _should_test(self, credential: Credential, changed: bool) -> bool:
        if not credential.primitive.has_test(credential.recipe):
            return False
        policy = credential.spec.test
        return policy is TestPolicy.ALWAYS or (policy is TestPolicy.AFTER_REFRESH and changed)

    def _test(
        self, credential: Credential, state: CredentialState, done: Done
    ) -> tuple[CredentialState, ItemResult | None]:
        checked = credential.checked(state, refreshed=done.refreshed)
        done.refreshed = done.refreshed or checked.refreshed
        done.tested = result = checked.result
        if result.passed:
            return checked.state, None
        problems = "; ".join(result.problems)
        hint = credential.test_failure_hint(result)
        return checked.state, ItemResult(
            KIND,
            credential.name,
            Outcome.NEEDS_HUMAN,
            "credential.test_failed",
            f"{credential.name}: the {credential.recipe.service} test failed ({problems}); "
            f"no sink was written; hint: {hint}",
            {
                "status": result.status,
                "hint": hint,
                "see": CredentialError.see_for("credential-failed"),
                "refreshed": done.refreshed,
            },
        )

    def _hooks(self, credential: Credential, done: Done, pending: Path) -> None:
        paths = [sink.path for sink in credential.spec.sinks]
        try:
            for hook in credential.spec.hooks:
                run_hook(hook, credential=credential.name, sink_paths=paths)
                done.hooks += 1
                crashpoints.reached("credential.hook_ran")
        except HookFailed:
            _mark(pending)
            raise
        pending.unlink(missing_ok=True)

    def _dry(self, credential: Credential) -> ItemResult:
        state = credential.state()
        plan = credential.plan(state)
        if plan.action is Action.REAUTH:
            raise credential.reauth_error(plan.reason)
        words = {Action.KEEP: "would keep", Action.REFRESH: "would refresh"}[plan.action]
        pending = len(_changed_sinks(credential, state)) if plan.action is Action.KEEP else 0
        sinks = f", would write {pending} sink(s)" if pending else ""
        return ItemResult(
            KIND,
            credential.name,
            Outcome.UNCHANGED,
            "credential.refreshed" if plan.action is Action.REFRESH else "credential.unchanged",
            f"{credential.name}: dry run: {words} ({plan.reason}){sinks}.",
            {
                "dry_run": True,
                "action": plan.action.value,
                "reason": plan.reason,
                "due_at": plan.due_at,
                "sinks_pending": pending,
            },
        )


def _mark(pending: Path) -> None:
    if not pending.exists():
        ensure_private_dir(pending.parent)
        write_atomic(pending, b"")


def _changed_sinks(credential: Credential, state: CredentialState) -> list[SinkContent]:
    """The sinks whose file differs from what *state* gives them."""
    if not credential.spec.sinks:
        return []
    values = credential.primitive.values(state)
    contents = [
        sink_content(
            sink, values, credential=credential.name, default_value=credential.default_sink_value()
        )
        for sink in credential.spec.sinks
    ]
    return [content for content in contents if needs_write(content)]
