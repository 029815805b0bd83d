"""The dev server is never more permissive than OpenBao: a property over generated requests.

Hypothesis draws a parent token's policy on the token store's create endpoints
and a token request (each field present or not); root creates the parent on
both servers, the parent asks, root looks the result up. Both servers must give
the same allow/deny with the same error, and the same policies, TTL, period,
explicit max, flags and display name on what is created (``differential.py``);
a request the dev server allows and OpenBao refuses fails with its own message.
``RENEWER_DIFFERENTIAL_EXAMPLES`` sets the number of examples (40 in the suite).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.devserver.differences import ALLOWED_IN_TRANSCRIPTS
from tests.devserver.differential import Step, compare, new_run_id, run
from tests.vaultpeer import VaultPeer

CAPABILITIES = ("create", "update", "read", "sudo", "deny")
capability_sets = st.lists(st.sampled_from(CAPABILITIES), unique=True, max_size=3)
durations = st.sampled_from([None, "45s", "10m", "1h", "2h", "800h"])


@st.composite
def parent_policies(draw: st.DrawFn) -> str:
    """What the parent token's policy allows on the token store's create endpoints."""
    rules = []
    for path in ("auth/token/create", "auth/token/create-orphan", "auth/token/create*"):
        capabilities = draw(capability_sets)
        if capabilities:
            quoted = ", ".join(f'"{c}"' for c in capabilities)
            rules.append(f'path "{path}" {{ capabilities = [{quoted}] }}')
    return "\n".join(rules) or 'path "secret/x" { capabilities = ["read"] }'


@st.composite
def token_requests(draw: st.DrawFn) -> dict[str, object]:
    """A create body, each field present or not (the server's defaults then apply)."""
    options: dict[str, st.SearchStrategy[object]] = {
        "policies": st.sampled_from(
            [["parent-{run}"], ["default"], ["parent-{run}", "other-{run}"], ["root"], []]
        ),
        "ttl": durations,
        "period": durations,
        "explicit_max_ttl": durations,
        "no_parent": st.booleans(),
        "no_default_policy": st.booleans(),
        "display_name": st.sampled_from(["devvm-wizard", "My App_1.", "token"]),
        "renewable": st.booleans(),
        "num_uses": st.sampled_from([0, 3]),
        "type": st.sampled_from(["service", "batch"]),
        "meta": st.just({"renewer_sink": "devvm"}),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=6))
    drawn = {name: draw(options[name]) for name in chosen}
    return {name: value for name, value in drawn.items() if value is not None}


def request_steps(
    rules: str, parent: dict[str, object], body: dict[str, object], path: str
) -> list[Step]:
    """Root writes the parent's policy and creates the parent; the parent asks; root looks."""
    return [
        Step("PUT", "sys/policies/acl/parent-{run}", {"policy": rules}),
        Step("POST", "auth/token/create", parent, save={"parent": "auth.client_token"}),
        Step("POST", path, body, token="parent", save={"child": "auth.client_token"}),
        Step("POST", "auth/token/lookup", {"token": "{child}"}),
    ]


@settings(
    max_examples=int(os.environ.get("RENEWER_DIFFERENTIAL_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=parent_policies(),
    parent=st.fixed_dictionaries(
        {"default": st.booleans(), "ttl": st.sampled_from(["1h", "800h"])}
    ),
    body=token_requests(),
    orphan_endpoint=st.booleans(),
)
def test_generated_token_requests_get_the_same_verdict_and_the_same_token(
    both: tuple[VaultPeer, VaultPeer],
    rules: str,
    parent: dict[str, object],
    body: dict[str, object],
    orphan_endpoint: bool,
) -> None:
    """The dev server is never more permissive than OpenBao: for any policy and request,
    the same allow/deny (with the same error), and the same policies, TTL, period,
    explicit max, flags and display name on what is created."""
    parent_body = {"policies": ["parent-{run}"], "ttl": parent["ttl"], "no_parent": True}
    if not parent["default"]:
        parent_body["no_default_policy"] = True
    path = "auth/token/create-orphan" if orphan_endpoint else "auth/token/create"
    steps = request_steps(rules, parent_body, body, path)
    dev, real = both
    run_id = new_run_id()
    dev_answers = run(dev, steps, run_id=run_id)
    real_answers = run(real, steps, run_id=run_id)
    event(f"OpenBao: {real_answers[2].status}")

    assert not (dev_answers[2].status == 200 and real_answers[2].status != 200), (
        f"the dev server allowed what OpenBao refused: {real_answers[2].body!r}"
    )
    allowed = [pattern for pattern, _why in ALLOWED_IN_TRANSCRIPTS]
    assert compare(dev_answers, real_answers, allowed=allowed) == []
