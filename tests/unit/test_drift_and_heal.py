"""Tests for the drift guard and the heal decisions (renewer.core.drift, .heal)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from renewer.core.drift import check_drift
from renewer.core.heal import accept_minted, plan_heal
from renewer.core.model import MintSpec, TokenInfo, TokenSpec
from tests.strategies import OURS, POLICY_NAMES, policy_sets, token_infos

SPEC = TokenSpec(display_name=OURS, policies=frozenset({"vault-admin"}))
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
        assert check_drift(TokenInfo.from_lookup(LOOKUP_OURS), SPEC).ok

    def test_oidc_clobber_is_drift_by_name(self) -> None:
        """Seed: `oidc: parse+decide refused` — admin policies do not make it ours."""
        verdict = check_drift(TokenInfo.from_lookup(LOOKUP_OIDC), SPEC)
        assert not verdict.ok
        assert "display name is 'oidc-alice'" in verdict.explain()

    def test_woodpecker_clobber_is_drift_by_name_and_policy(self) -> None:
        """The 2026-06-05 incident: a read-only kubernetes token must never be renewed."""
        verdict = check_drift(TokenInfo.from_lookup(LOOKUP_WP), SPEC)
        assert len(verdict.reasons) == 2
        assert "missing policies vault-admin" in verdict.explain()

    def test_our_name_without_the_policy_is_drift(self) -> None:
        """A token named like ours that lost vault-admin is not ours any more."""
        info = TokenInfo(accessor="a", display_name=OURS, policies=frozenset({"default"}))
        assert check_drift(info, SPEC).reasons == ("missing policies vault-admin",)


@given(info=token_infos(), extra=policy_sets)
def test_verdict_is_monotonic_in_policies(info: TokenInfo, extra: frozenset[str]) -> None:
    """Adding policies never turns an ok verdict into drift."""
    richer = TokenInfo(
        accessor=info.accessor, display_name=info.display_name, policies=info.policies | extra
    )
    if check_drift(info, SPEC).ok:
        assert check_drift(richer, SPEC).ok


@given(info=token_infos(), required=st.frozensets(st.sampled_from(POLICY_NAMES), min_size=1))
def test_ok_means_name_matches_and_all_policies_present(
    info: TokenInfo, required: frozenset[str]
) -> None:
    """The verdict is exactly the documented rule."""
    spec = TokenSpec(display_name=OURS, policies=required)
    expected = info.display_name == OURS and required <= info.policies
    assert check_drift(info, spec).ok is expected


class TestPlanHeal:
    def test_the_plan_mints_an_orphan_periodic_token_from_config(self) -> None:
        """Orphan, period, policies, display name: from mint:, never from the foreign token."""
        foreign = TokenInfo.from_lookup(LOOKUP_OIDC)
        plan = plan_heal("devvm", foreign, check_drift(foreign, SPEC), MINT)
        body = plan.mint.as_body()
        assert body["no_parent"] is True
        assert body["period"] == "2764800s"
        assert body["policies"] == ["sops-admin", "vault-admin"]
        assert body["display_name"] == "devvm-wizard"
        assert plan.foreign_display_name == "oidc-alice"
        json.dumps(body)  # it is sent as JSON unchanged

    def test_the_plan_marks_the_token_as_ours_in_metadata(self) -> None:
        """Metadata tells a human in Vault's UI who made the token and for which sink."""
        foreign = TokenInfo.from_lookup(LOOKUP_OIDC)
        plan = plan_heal("devvm", foreign, check_drift(foreign, SPEC), MINT)
        assert plan.mint.meta == {"created-by": "renewer", "sink": "devvm"}


class TestAcceptMinted:
    def test_a_correct_periodic_orphan_is_accepted(self) -> None:
        """The minted token passes the same guard and is what we asked for."""
        assert accept_minted(TokenInfo.from_lookup(LOOKUP_OURS), SPEC, MINT).ok

    def test_a_minted_token_with_the_wrong_name_is_rejected(self) -> None:
        """Seed: `heal minted an unexpected token — not writing it`."""
        info = TokenInfo.from_lookup({**LOOKUP_OURS, "display_name": "token-other"})
        assert not accept_minted(info, SPEC, MINT).ok

    def test_non_orphan_wrong_period_batch_and_no_accessor_are_each_rejected(self) -> None:
        """Each property a heal relies on is checked separately."""
        cases: dict[str, dict[str, object]] = {
            "orphan": {"orphan": False},
            "period": {"period": 3600},
            "renewable": {"renewable": False},
            "type": {"type": "batch"},
            "accessor": {"accessor": ""},
        }
        for word, change in cases.items():
            verdict = accept_minted(TokenInfo.from_lookup({**LOOKUP_OURS, **change}), SPEC, MINT)
            assert not verdict.ok
            assert word in verdict.explain(), word
