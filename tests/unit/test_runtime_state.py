"""Tests for renewer.primitives.base.RuntimeState: the stored record and what sinks may see."""

from __future__ import annotations

import pytest

from renewer.core.secret import Secret
from renewer.primitives.base import RuntimeState, RuntimeStateDamaged


class TestRuntimeState:
    def test_record_round_trips(self) -> None:
        """What is stored is what is read back, extras included."""
        state = RuntimeState(
            access_token=Secret("at-123456"),
            refresh_token=Secret("rt-123456"),
            token_type="Bearer",
            scope="read",
            issued_at=100.5,
            expires_at=3700.5,
            extra={"kind_value": "x"},
        )

        assert RuntimeState.from_record(state.to_record()) == state

    def test_empty_record_is_the_empty_state(self) -> None:
        """Nothing stored yet."""
        assert RuntimeState.from_record(None) == RuntimeState()
        assert RuntimeState().to_record() == {}

    @pytest.mark.parametrize("value", ["soon", "nan", "inf"])
    def test_damaged_times_are_refused(self, value: str) -> None:
        """A time that is not a finite number is damage, not a token that never expires."""
        with pytest.raises(RuntimeStateDamaged, match="expires_at"):
            RuntimeState.from_record({"expires_at": value})

    def test_reauth_mark_survives_a_round_trip(self) -> None:
        """creds list shows the mark until a login replaces the state."""
        marked = RuntimeState(access_token=Secret("at-123456")).marked_for_reauth("invalid_grant")

        again = RuntimeState.from_record(marked.to_record())

        assert (again.needs_reauth, again.reauth_reason) == (True, "invalid_grant")

    def test_template_values_never_include_the_refresh_token(self) -> None:
        """Sinks can get the access token and expiry, never the refresh token."""
        state = RuntimeState(
            access_token=Secret("at-123456"), refresh_token=Secret("rt-123456"), expires_at=1700.9
        )

        assert state.template_values() == {"access_token": "at-123456", "expires_at": "1700"}

    def test_repr_hides_tokens(self) -> None:
        """A state in a traceback shows no token."""
        assert "at-123456" not in repr(RuntimeState(access_token=Secret("at-123456")))


class TestMarkAndRecipe:
    def test_a_mark_is_void_under_another_recipe(self) -> None:
        """A refusal may be the recipe's fault: a changed recipe gets a try."""
        marked = RuntimeState().marked_for_reauth("invalid_grant", recipe="abc")
        again = RuntimeState.from_record(marked.to_record())

        assert again.for_recipe("abc").needs_reauth
        assert not again.for_recipe("def").needs_reauth
        assert again.for_recipe("def").reauth_reason == ""

    def test_a_mark_without_a_recipe_stays(self) -> None:
        """Marks written before recipes were fingerprinted hold until a person acts."""
        marked = RuntimeState().marked_for_reauth("invalid_grant")

        assert marked.for_recipe("anything").needs_reauth
        assert "reauth_recipe" not in RuntimeState().to_record()
