"""The leak guard itself must be able to fail a test."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_printed_secret_fails_the_test(pytester: pytest.Pytester) -> None:
    """A test that prints a secret it created is reported as failed."""
    pytester.makeconftest('pytest_plugins = ["tests.leakguard"]')
    pytester.makepyfile(
        """
        def test_prints(make_secret):
            value = make_secret("tok")
            print("the token is", value)

        def test_quiet(make_secret):
            make_secret("tok")
            print("nothing to see")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*secret leak*Captured stdout call*"])
