"""Hypothesis strategies shared by the unit tests."""

from __future__ import annotations

from hypothesis import strategies as st

from renewer.core.model import TokenInfo

OURS = "token-devvm-wizard"
POLICY_NAMES = ("default", "vault-admin", "sops-admin", "reader", "kubernetes")

accessors = st.text(alphabet="ab-12", max_size=4)
display_names = st.sampled_from(
    [OURS, "token-oidc-alice", "kubernetes-woodpecker-default", "", "token"]
)
policy_sets = st.frozensets(st.sampled_from(POLICY_NAMES))


@st.composite
def token_infos(draw: st.DrawFn) -> TokenInfo:
    return TokenInfo(
        accessor=draw(accessors),
        display_name=draw(display_names),
        policies=draw(policy_sets),
        ttl=draw(st.integers(min_value=0, max_value=3_000_000)),
        period=draw(st.sampled_from([0, 3600, 2_764_800])),
        orphan=draw(st.booleans()),
        renewable=draw(st.booleans()),
    )
