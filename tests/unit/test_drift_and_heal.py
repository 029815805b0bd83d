"""Tests for the drift guard and the heal decisions (renewer.core.drift, .heal)."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from renewer.core.drift import Verdict, check_drift
from renewer.core.heal import (
    MINT_PATH,
    SCAN_PATH,
    accept_minted,
    mint_request,
    plan_heal,
    predict_heal,
)
from renewer.core.model import MintSpec, TokenInfo, TokenSpec
from renewer.core.owner import Ownership, ownership
from tests.strategies import OURS, OWNER, POLICY_NAMES, policy_sets, token_infos

SPEC = TokenSpec(display_name=OURS, policies=frozenset({"vault-admin"}), period=2_764_800)
ME = OWNER  # this installation's owner id
MARKS = {"renewer_machine": ME, "renewer_sink": "devvm"}
MINT = MintSpec(
    display_name="devvm-wizard", policies=("sops-admin", "vault-admin"), period=2_764_800
)

# The seed's lookup fixtures (003: LOOKUP_NEW / LOOKUP_OIDC / LOOKUP_WP), as Vault sends them.
LOOKUP_OURS: dict[str, object] = {
    "display_name": "token-devvm-wizard",
    "accessor": "acc-new",
    "policies": ["default", "sops-admin", "vault-admin"],
    "identity_policies": None,
    "id": "hvs.must-not-survive-parsing",
    "period": 2_764_800,
    "orphan": True,
    "renewable": True,
    "type": "service",
    "ttl": 2_764_000,
    "creation_ttl": 2_764_800,
    "meta": MARKS,
}
LOOKUP_OIDC = {
    "display_name": "oidc-alice",
    "accessor": "acc-oidc",
    "policies": ["default", "vault-admin"],
}
LOOKUP_WP = {
    "display_name": "kubernetes-woodpecker-default",
    "accessor": "acc-wp",
    "policies": ["default", "woodpecker-read"],
}


class TestLookupParsing:
    def test_display_name_policies_and_accessor_are_parsed(self) -> None:
        """Seed: display-name and accessor parsing from lookup JSON."""
        info = TokenInfo.from_lookup(LOOKUP_OURS)
        assert (info.display_name, info.accessor) == ("token-devvm-wizard", "acc-new")
        assert info.policies == frozenset({"default", "sops-admin", "vault-admin"})

    def test_the_token_id_is_dropped(self) -> None:
        """A secret never enters a value that may be logged."""
        info = TokenInfo.from_lookup(LOOKUP_OURS)
        assert "hvs.must-not-survive-parsing" not in repr(info)
        assert not hasattr(info, "id")

    def test_absent_accessor_parses_as_empty(self) -> None:
        """Seed: `accessor absent -> empty`."""
        assert TokenInfo.from_lookup({"display_name": "x"}).accessor == ""


class TestCheckDrift:
    def test_our_token_passes(self) -> None:
        """Expected name and every required policy: ok."""
        assert check_drift(TokenInfo.from_lookup(LOOKUP_OURS), SPEC, owner=ME, sink="devvm").ok

    def test_oidc_clobber_is_drift_by_name(self) -> None:
        """Seed: `oidc: parse+decide refused` — admin policies do not make it ours."""
        verdict = check_drift(TokenInfo.from_lookup(LOOKUP_OIDC), SPEC, owner=ME, sink="devvm")
        assert not verdict.ok
        assert "display name is 'oidc-alice'" in verdict.explain()

    def test_woodpecker_clobber_is_drift_by_name_and_policy(self) -> None:
        """The 2026-06-05 incident: a read-only kubernetes token must never be renewed."""
        verdict = check_drift(TokenInfo.from_lookup(LOOKUP_WP), SPEC, owner=ME, sink="devvm")
        assert len(verdict.reasons) == 2
        assert "missing policies vault-admin" in verdict.explain()

    def test_our_name_without_the_policy_is_drift(self) -> None:
        """A token named like ours that lost vault-admin is not ours any more."""
        info = TokenInfo(accessor="a", display_name=OURS, policies=frozenset({"default"}))
        assert guard(info).reasons == ("missing policies vault-admin",)

    def test_a_short_lived_child_with_our_name_and_policies_is_drift(self) -> None:
        """Issue 15, item 1: `ttl=1h`, not periodic, a child. It passed the guard, got renewed
        as ours, and the same run's sweep revoked the real periodic token."""
        child = ours(period=0, orphan=False, creation_ttl=3600, ttl=3600)
        verdict = guard(child)
        assert not verdict.ok
        assert "not periodic (a plain TTL of 1h)" in verdict.explain()
        assert "not an orphan" in verdict.explain()

    def test_a_periodic_token_with_another_period_is_drift(self) -> None:
        """The config says what we mint; a 1h periodic token is not the 768h one."""
        assert "period is 1h, the config mints 768h" in guard(ours(period=3600)).explain()

    def test_another_machines_token_is_drift(self) -> None:
        """Another renewer's token copied into our file is not ours to keep alive."""
        elsewhere = ours(meta={"renewer_machine": "fedcba9876543210", "renewer_sink": "devvm"})
        verdict = guard(elsewhere)
        assert "another machine" in verdict.explain()
        assert "renewer_machine=fedcba9876543210" in verdict.explain()
        assert "another machine" in guard(ours(meta={**MARKS, "renewer_sink": "other"})).explain()

    def test_unmarked_and_pre_marks_tokens_are_still_ours(self) -> None:
        """Tokens minted by hand (README) or by older releases keep being renewed."""
        assert guard(ours(meta={})).ok
        assert guard(ours(meta={"created-by": "renewer", "sink": "devvm"})).ok


def ours(**change: object) -> TokenInfo:
    """Our periodic orphan as Vault looks it up, with *change* applied."""
    fields: dict[str, object] = {**LOOKUP_OURS, **change}
    return TokenInfo.from_lookup(fields)


def guard(info: TokenInfo, spec: TokenSpec = SPEC) -> Verdict:
    return check_drift(info, spec, owner=ME, sink="devvm")


@given(info=token_infos(), extra=policy_sets)
def test_verdict_is_monotonic_in_policies(info: TokenInfo, extra: frozenset[str]) -> None:
    """Adding policies never turns an ok verdict into drift."""
    richer = replace(info, policies=info.policies | extra)
    if guard(info).ok:
        assert guard(richer).ok


@given(info=token_infos(), required=st.frozensets(st.sampled_from(POLICY_NAMES), min_size=1))
def test_ok_means_ours_by_name_policies_period_orphan_and_marks(
    info: TokenInfo, required: frozenset[str]
) -> None:
    """The verdict is exactly the documented rule."""
    spec = TokenSpec(display_name=OURS, policies=required, period=2_764_800)
    marks = ownership(info.metadata, owner=ME, sink="devvm")
    expected = (
        info.display_name == OURS
        and required <= info.policies
        and info.period == 2_764_800
        and info.orphan
        and marks is not Ownership.ELSEWHERE
    )
    assert guard(info, spec).ok is expected


@given(info=token_infos())
def test_an_ok_verdict_is_always_a_periodic_orphan(info: TokenInfo) -> None:
    """The safety promise behind item 1: only a token renewals keep alive is ever 'ours'."""
    if guard(info, replace(SPEC, period=0)).ok:
        assert info.period > 0
        assert info.orphan


class TestPlanHeal:
    def test_the_plan_mints_an_orphan_periodic_token_from_config(self) -> None:
        """Orphan, period, policies, display name: from mint:, never from the foreign token."""
        foreign = TokenInfo.from_lookup(LOOKUP_OIDC)
        plan = plan_heal("devvm", foreign, guard(foreign), MINT, owner=ME, source="~/.vault-token")
        body = plan.mint.as_body()
        assert body["no_parent"] is True
        assert body["period"] == "2764800s"
        assert body["policies"] == ["sops-admin", "vault-admin"]
        assert body["display_name"] == "devvm-wizard"
        assert plan.foreign_display_name == "oidc-alice"
        assert "'oidc-alice' from ~/.vault-token" in plan.describe()
        json.dumps(body)  # it is sent as JSON unchanged

    def test_the_plan_marks_the_token_with_machine_and_sink(self) -> None:
        """The owner marks tell sweeps (and a human in Vault's UI) whose token it is."""
        foreign = TokenInfo.from_lookup(LOOKUP_OIDC)
        plan = plan_heal("devvm", foreign, guard(foreign), MINT, owner=ME)
        assert plan.mint.meta == {"renewer_machine": ME, "renewer_sink": "devvm"}

    def test_config_meta_is_kept_but_never_overrides_the_marks(self) -> None:
        """mint.meta adds keys; the marks are renewer's (config refuses renewer_* keys too)."""
        mint = replace(MINT, meta={"team": "infra", "renewer_machine": "forged"})
        request = mint_request("devvm", mint, owner=ME)
        assert request.meta == {"team": "infra", "renewer_machine": ME, "renewer_sink": "devvm"}

    def test_a_rotation_adds_its_name(self) -> None:
        """One builder for every mint: heal, manual mint, rotation (issue 19)."""
        request = mint_request("devvm", MINT, owner=ME, rotation="weekly")
        assert request.meta["renewer_rotation"] == "weekly"


class TestAcceptMinted:
    def test_a_correct_periodic_orphan_is_accepted(self) -> None:
        """The minted token passes the same guard and is what we asked for."""
        assert accept(TokenInfo.from_lookup(LOOKUP_OURS)).ok

    def test_a_minted_token_with_the_wrong_name_is_rejected(self) -> None:
        """Seed: `heal minted an unexpected token — not writing it`."""
        assert not accept(ours(display_name="token-other")).ok

    def test_non_orphan_wrong_period_batch_and_no_accessor_are_each_rejected(self) -> None:
        """Each property a heal relies on is checked separately."""
        cases: dict[str, dict[str, object]] = {
            "orphan": {"orphan": False},
            "period": {"period": 3600},
            "renewable": {"renewable": False},
            "type": {"type": "batch"},
            "accessor": {"accessor": ""},
            "owner marks": {"meta": None},
        }
        for word, change in cases.items():
            verdict = accept(ours(**change))
            assert not verdict.ok
            assert word in verdict.explain(), word


def accept(info: TokenInfo) -> Verdict:
    return accept_minted(info, SPEC, MINT, owner=ME, sink="devvm")


def _caps(**paths: str) -> dict[str, frozenset[str]]:
    names = {"mint": MINT_PATH, "scan": SCAN_PATH}
    return {names[key]: frozenset(value.split()) for key, value in paths.items()}


class TestPredictHeal:
    """``--dry-run`` and ``check``: Vault's token-store rules applied to capabilities-self."""

    OIDC = TokenInfo.from_lookup(LOOKUP_OIDC)

    def test_update_and_sudo_on_the_mint_path_heals(self) -> None:
        forecast = predict_heal(self.OIDC, _caps(mint="update sudo", scan="list sudo"))
        assert forecast.allowed is True
        assert forecast.full_scan is True

    def test_root_heals(self) -> None:
        assert predict_heal(self.OIDC, _caps(mint="root", scan="root")).allowed is True

    def test_no_update_is_denied_and_says_what_it_has(self) -> None:
        forecast = predict_heal(self.OIDC, _caps(mint="deny"))
        assert forecast.allowed is False
        assert "no update capability on auth/token/create-orphan (it has: deny)" in forecast.reason

    def test_update_without_sudo_is_denied_for_a_periodic_token(self) -> None:
        """Vault: 400 `root or sudo privileges required to create periodic token`."""
        forecast = predict_heal(self.OIDC, _caps(mint="create update"))
        assert forecast.allowed is False
        assert "sudo" in forecast.reason and "periodic" in forecast.reason

    def test_batch_and_limited_use_tokens_cannot_create_tokens(self) -> None:
        caps = _caps(mint="root")
        assert predict_heal(replace(self.OIDC, token_type="batch"), caps).allowed is False
        assert predict_heal(replace(self.OIDC, num_uses=3), caps).allowed is False

    def test_a_refused_question_is_unknown_not_a_guess(self) -> None:
        forecast = predict_heal(self.OIDC, None, why_unknown="capabilities-self: denied")
        assert forecast.allowed is None
        assert "cannot predict" in forecast.words()

    def test_a_full_scan_needs_list_and_sudo(self) -> None:
        forecast = predict_heal(self.OIDC, _caps(mint="update sudo", scan="list"))
        assert forecast.full_scan is False


@given(
    mint=st.frozensets(st.sampled_from(["create", "read", "update", "delete", "list", "sudo"])),
    kind=st.sampled_from(["service", "batch"]),
    uses=st.integers(min_value=0, max_value=3),
)
def test_a_predicted_heal_needs_update_and_sudo(mint: frozenset[str], kind: str, uses: int) -> None:
    """Never predict a heal Vault's rules forbid (an honest dry run exits like the real one)."""
    authority = replace(TokenInfo.from_lookup(LOOKUP_OIDC), token_type=kind, num_uses=uses)
    forecast = predict_heal(authority, {MINT_PATH: mint})
    expected = {"update", "sudo"} <= mint and kind == "service" and uses == 0
    assert forecast.allowed is expected
