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


def test_secrets_in_captured_structlog_events_and_journal_fields_fail_the_test(
    pytester: pytest.Pytester,
) -> None:
    """capture_logs() bypasses redaction, and journal fields rendered in-process are output:
    a secret handed to either fails the test that created it (one inner run, three tests)."""
    pytester.makeconftest('pytest_plugins = ["tests.leakguard"]')
    pytester.makepyfile(
        """
        import structlog
        from structlog.testing import capture_logs
        from renewer.logging import render_journal

        def test_logs_it(make_secret):
            value = make_secret("tok")
            with capture_logs():
                structlog.get_logger().info("token.read", note=value)

        def test_renders_it(make_secret):
            value = make_secret("tok")
            render_journal(None, "info", {"event": "x.y", "level": "info", "extra": {"v": value}})

        def test_logs_names_only(make_secret):
            make_secret("tok")
            with capture_logs():
                structlog.get_logger().info("token.read", item="devvm")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*secret leak*structlog event token.read*"])
    result.stdout.fnmatch_lines(["*secret leak*journal fields x.y*"])
