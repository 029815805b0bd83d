"""Tests for renewer.core.forbidden: which 403s mean "log in again"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.forbidden import Forbidden, classify_forbidden, error_items, is_wrapped

# The exact bodies, as the servers send them (renewer.core.forbidden cites the sources).
OPENBAO_DEAD = ["permission denied"]  # also Vault < 1.17, and a request without a token
VAULT_117_DEAD = ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]
POLICY_DENIAL = ["1 error occurred:\n\t* permission denied\n\n"]  # every version


class TestClassifyForbidden:
    @pytest.mark.parametrize(
        "errors",
        [OPENBAO_DEAD, VAULT_117_DEAD],
        ids=["openbao-and-vault-before-1.17", "vault-1.17"],
    )
    def test_a_dead_caller_token_is_a_dead_token(self, errors: list[str]) -> None:
        assert classify_forbidden(errors) is Forbidden.DEAD_TOKEN

    def test_a_policy_denial_is_a_denial(self) -> None:
        """The same words, wrapped: the token is alive and a policy said no."""
        assert classify_forbidden(POLICY_DENIAL) is Forbidden.DENIED

    @pytest.mark.parametrize(
        "errors",
        [
            None,  # not JSON: a proxy's page
            [],
            ["bad token"],  # a token named in the body of auth/token/lookup
            ["permission denied", "something else"],
            ["1 error occurred:\n\t* permission denied\n\t* bad token\n\n"],
            ["permission denied to read"],
        ],
        ids=["no-json", "empty", "bad-token", "two-errors", "wrapped-other", "longer-text"],
    )
    def test_anything_else_is_a_denial(self, errors: list[str] | None) -> None:
        """renewer asks for a login only when Vault says the caller's token is the problem."""
        assert classify_forbidden(errors) is Forbidden.DENIED

    def test_surrounding_whitespace_does_not_hide_the_bare_answer(self) -> None:
        assert classify_forbidden([" permission denied\n"]) is Forbidden.DEAD_TOKEN


class TestErrorItems:
    def test_a_multierror_is_split_into_its_items(self) -> None:
        assert error_items(VAULT_117_DEAD[0]) == ("permission denied", "invalid token")
        assert is_wrapped(VAULT_117_DEAD[0])

    def test_a_bare_error_is_one_item(self) -> None:
        assert error_items("missing accessor") == ("missing accessor",)
        assert not is_wrapped("missing accessor")

    def test_an_empty_text_has_no_items(self) -> None:
        assert error_items("  ") == ()


words = st.sampled_from(["permission denied", "invalid token", "bad token", "denied", "x"])


def multierror(*items: str) -> str:
    noun = "error" if len(items) == 1 else "errors"
    return f"{len(items)} {noun} occurred:\n" + "".join(f"\t* {i}\n" for i in items) + "\n"


@given(st.lists(words, min_size=1, max_size=3))
def test_a_wrapped_answer_is_a_dead_token_only_if_it_names_invalid_token(items: list[str]) -> None:
    """The safety promise: a policy denial (wrapped) never turns into a login request."""
    verdict = classify_forbidden([multierror(*items)])

    assert (verdict is Forbidden.DEAD_TOKEN) == ("invalid token" in items)


@given(st.lists(st.text(max_size=30), max_size=3))
def test_classification_never_fails_and_items_round_trip(errors: list[str]) -> None:
    """Whatever a server or a proxy sends, the answer is one of the two reasons."""
    assert classify_forbidden(errors) in set(Forbidden)
    for error in errors:
        assert all(item.strip() == item and item for item in error_items(error))
