"""Tests for renewer.core.jwt_claims: the assertion's header and claims, no keys."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.jwt_claims import (
    MAX_TTL,
    Assertion,
    AssertionProblem,
    join_scopes,
    plan_assertion,
)

NOW = 1_700_000_000.75


def plan(**changes: Any) -> Assertion:
    """plan_assertion with a Google-like issuer and audience, overridden by *changes*."""
    arguments: dict[str, Any] = {
        "issuer": "sa@p.iam",
        "audience": "https://oauth2.example/token",
        "algorithm": "RS256",
        "now": NOW,
        "ttl": 60,
        **changes,
    }
    return plan_assertion(**arguments)


class TestPlanAssertion:
    def test_google_style_claims(self) -> None:
        """iss/aud/iat/exp/scope, kid in the header, iat rounded down."""
        plan_ = plan(ttl=3600, scopes=["a", "b", "a"], key_id="k1", subject=None)

        assert plan_.header == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
        assert plan_.claims == {
            "iss": "sa@p.iam",
            "aud": "https://oauth2.example/token",
            "iat": 1_700_000_000,
            "exp": 1_700_003_600,
            "scope": "a b",
        }
        assert plan_.expires_at == 1_700_003_600

    def test_subject_for_domain_wide_delegation(self) -> None:
        """Google's flow: sub is present only when a subject is given."""
        assert plan(subject="admin@example.com").claims["sub"] == "admin@example.com"
        assert "sub" not in plan().claims

    def test_rfc_7523_subject_defaults_to_the_issuer(self) -> None:
        """sub is a MUST in RFC 7523 §3: a client acting for itself is its own subject."""
        assert plan(subject_is_issuer=True).claims["sub"] == "sa@p.iam"
        assert plan(subject="u@x", subject_is_issuer=True).claims["sub"] == "u@x"

    def test_scopes_can_stay_out_of_the_assertion(self) -> None:
        """Generic servers take scope as a form parameter."""
        assert "scope" not in plan(scopes=["x"], scope_in_assertion=False).claims

    def test_jti_and_extra_claims(self) -> None:
        """jti when given; extra claims as they are."""
        plan_ = plan(jti="j-1", extra={"tenant": "t1"})

        assert plan_.claims["jti"] == "j-1"
        assert plan_.claims["tenant"] == "t1"
        assert "kid" not in plan_.header

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"issuer": ""}, "issuer"),
            ({"audience": ""}, "audience"),
            ({"ttl": 0}, "lifetime"),
            ({"ttl": MAX_TTL + 1}, "lifetime"),
            ({"algorithm": "HS256"}, "algorithm"),
            ({"now": float("nan")}, "clock"),
            ({"extra": {"exp": "9999999999", "nbf": "1"}}, "may not set exp, nbf"),
        ],
        ids=["no-iss", "no-aud", "ttl-0", "ttl-long", "hmac", "nan", "forged-exp"],
    )
    def test_unusable_inputs_are_refused(self, changes: dict[str, object], message: str) -> None:
        """A bad field is named; nothing is signed."""
        with pytest.raises(AssertionProblem, match=message):
            plan(**changes)


class TestJoinScopes:
    def test_order_kept_repeats_and_empties_dropped(self) -> None:
        """First occurrence wins."""
        assert join_scopes(["b", "", "a", "b"]) == "b a"


@given(now=st.floats(0, 4e9), ttl=st.integers(1, MAX_TTL))
def test_lifetime_is_exactly_ttl_and_starts_at_now(now: float, ttl: int) -> None:
    """exp - iat == ttl, and iat is never after the clock reading."""
    claims = plan(now=now, ttl=ttl).claims
    issued, expires = claims["iat"], claims["exp"]

    assert isinstance(issued, int)
    assert isinstance(expires, int)
    assert expires - issued == ttl
    assert issued <= now < issued + 1
