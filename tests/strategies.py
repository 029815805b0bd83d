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

OWNER = "0123456789abcdef"  # "this installation" in the unit tests
OTHER_OWNER = "fedcba9876543210"
SINK = "devvm"
# Vault token meta, as the tokens a sweep meets carry it (renewer.core.owner):
METAS = {
    "mine": (("renewer_machine", OWNER), ("renewer_sink", SINK)),
    "other machine": (("renewer_machine", OTHER_OWNER), ("renewer_sink", SINK)),
    "other sink": (("renewer_machine", OWNER), ("renewer_sink", "work")),
    "pre-marks release": (("created-by", "renewer"), ("sink", SINK)),
    "unmarked": (),
    "someone's label": (("team", "infra"),),
}
metas = st.sampled_from(sorted(METAS.values()))


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
        meta=draw(metas),
    )
