"""Tests for renewer.core.expect: a recipe test's expectations against an answer."""

from __future__ import annotations

from typing import Any

import pytest

from renewer.core.expect import CREDENTIAL, NOT_JSON, RECIPE, blame, check_answer


class TestCheckAnswer:
    def test_any_2xx_passes_without_expectations(self) -> None:
        """No expect_status means any success."""
        assert check_answer(status=204, body=NOT_JSON) == ()

    def test_non_2xx_fails_without_expectations(self) -> None:
        """A 401 is a failed test even when the recipe names no status."""
        assert check_answer(status=401, body=NOT_JSON) == ("expected a 2xx answer, got HTTP 401",)

    def test_expected_status_must_match_exactly(self) -> None:
        """expect_status 200 refuses a 201."""
        assert check_answer(status=201, body={}, expect_status=200) == (
            "expected HTTP 200, got HTTP 201",
        )

    def test_subset_of_json_passes(self) -> None:
        """Extra keys in the answer are fine."""
        body = {"ok": True, "user": {"id": "U1", "name": "n"}, "extra": 1}

        assert (
            check_answer(status=200, body=body, expect_json={"ok": True, "user": {"id": "U1"}})
            == ()
        )

    def test_missing_key_is_reported_with_its_path(self) -> None:
        """A key the recipe expects but the answer lacks is named."""
        assert check_answer(status=200, body={"user": {}}, expect_json={"user": {"id": "U1"}}) == (
            "body.user.id: missing",
        )

    def test_slack_style_ok_false_fails(self) -> None:
        """Slack answers 200 with ok:false on a bad token: the JSON check catches it."""
        problems = check_answer(status=200, body={"ok": False}, expect_json={"ok": True})

        assert problems == ("body.ok: expected true, got false",)

    def test_non_json_body_fails_a_json_expectation(self) -> None:
        """An HTML error page is not a JSON answer."""
        assert check_answer(status=200, body=NOT_JSON, expect_json={"ok": True}) == (
            "expected a JSON body, got something else",
        )

    @pytest.mark.parametrize(
        ("expected", "actual"),
        [(True, 1), (1, True), ("1", 1), ([1, 2], [2, 1]), ({"a": 1}, {"a": 1, "b": 2})],
    )
    def test_json_types_are_not_confused(self, expected: Any, actual: Any) -> None:
        """true is not 1, "1" is not 1, lists keep order, nested lists compare exactly."""
        assert check_answer(status=200, body={"x": [actual]}, expect_json={"x": [expected]})

    def test_integer_and_float_are_equal(self) -> None:
        """JSON has one number type."""
        assert check_answer(status=200, body={"n": 1.0}, expect_json={"n": 1}) == ()

    def test_strings_from_the_answer_are_never_quoted(self) -> None:
        """A service may echo something private: mismatches do not repeat it."""
        problems = check_answer(
            status=200, body={"who": "private-value-123"}, expect_json={"who": "bot"}
        )

        assert problems == ("body.who: expected 'bot', got a different string",)
        assert "private" not in " ".join(problems)

    def test_object_expected_but_list_given(self) -> None:
        """A shape mismatch names what was found."""
        assert check_answer(status=200, body=[], expect_json={"ok": True}) == (
            "body: expected an object, got a list",
        )


class TestBlame:
    @pytest.mark.parametrize(
        ("status", "expect_status", "who"),
        [
            (401, None, CREDENTIAL),
            (403, 200, CREDENTIAL),
            (None, 200, CREDENTIAL),  # no HTTP answer: a TLS refusal of the certificate
            (401, 401, RECIPE),  # the test expects a refusal (an endpoint probing auth)
            (404, 200, RECIPE),
            (200, None, RECIPE),  # 2xx with a JSON mismatch
            (500, 200, RECIPE),
        ],
    )
    def test_refusals_blame_the_credential_and_the_rest_the_recipe(
        self, status: int | None, expect_status: int | None, who: str
    ) -> None:
        """Storing the secret again only helps when the service refused it."""
        assert blame(status, expect_status=expect_status) == who
