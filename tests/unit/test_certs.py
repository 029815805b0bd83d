"""Tests for renewer.core.certs: the certificate decisions, from plain facts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core import certs
from renewer.core.certs import CertFacts, check_certificate, utc

DAY = 86400.0
START = 1_800_000_000.0
KEY = b"spki-of-the-key"


def cert(*, days: float = 90, public_key: bytes = KEY) -> CertFacts:
    return CertFacts(
        subject="CN=devvm",
        serial="01:02",
        not_before=START,
        not_after=START + days * DAY,
        public_key=public_key,
    )


class TestCheckCertificate:
    def test_a_young_certificate_is_fresh(self) -> None:
        """A tenth into its life: fresh, due from two thirds on."""
        decision = check_certificate(cert(), key_public=KEY, now=START + 9 * DAY)

        assert decision.state == certs.FRESH
        assert decision.usable
        assert decision.due_at == START + 60 * DAY

    def test_a_third_left_is_due(self) -> None:
        """Two thirds of the lifetime used: renew now (still usable)."""
        decision = check_certificate(cert(), key_public=KEY, now=START + 60 * DAY)

        assert decision.state == certs.DUE
        assert decision.usable
        assert utc(START + 90 * DAY) in decision.reason

    def test_the_fraction_is_the_credential_setting(self) -> None:
        """refresh_at: 0.5 renews at half the lifetime."""
        decision = check_certificate(cert(), key_public=KEY, now=START + 46 * DAY, fraction=0.5)

        assert decision.state == certs.DUE

    @pytest.mark.parametrize(
        ("facts", "key", "now", "state"),
        [
            (None, KEY, START, certs.MISSING),
            (cert(), b"another-key", START + DAY, certs.MISMATCH),
            (cert(), None, START + DAY, certs.MISMATCH),
            (cert(), KEY, START - 1, certs.NOT_YET_VALID),
            (cert(), KEY, START + 90 * DAY, certs.EXPIRED),
        ],
        ids=["missing", "other-key", "no-key", "not-yet-valid", "expired"],
    )
    def test_unusable_certificates(
        self, facts: CertFacts | None, key: bytes | None, now: float, state: str
    ) -> None:
        """Each reason a certificate cannot be presented has its own state."""
        decision = check_certificate(facts, key_public=key, now=now)

        assert decision.state == state
        assert not decision.usable

    def test_reasons_name_utc_times(self) -> None:
        """Expired at a UTC time a person can read."""
        decision = check_certificate(cert(days=1), key_public=KEY, now=START + 2 * DAY)

        assert decision.reason == f"the certificate expired at {utc(START + DAY)}"
        assert decision.reason.endswith("UTC")


@given(
    used=st.floats(0, 0.999),  # the last instants round to the expiry itself
    draw=st.floats(0, 1, exclude_max=True),
    days=st.floats(0.01, 3650),
)
def test_due_never_later_than_a_third_left(used: float, draw: float, days: float) -> None:
    """Whatever the draw, a certificate with a third or less of its life left is due."""
    facts = cert(days=days)
    now = facts.not_before + facts.lifetime * used

    decision = check_certificate(facts, key_public=KEY, now=now, draw=draw)

    assert decision.usable
    if used >= 2 / 3:
        assert decision.state == certs.DUE
    if used < (2 / 3) * 0.85:
        assert decision.state == certs.FRESH
