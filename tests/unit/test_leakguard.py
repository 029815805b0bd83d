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


def test_a_secret_in_a_captured_structlog_event_fails_the_test(pytester: pytest.Pytester) -> None:
    """capture_logs() bypasses redaction: a secret handed to the logger is a leak."""
    pytester.makeconftest('pytest_plugins = ["tests.leakguard"]')
    pytester.makepyfile(
        """
        import structlog
        from structlog.testing import capture_logs

        def test_logs_it(make_secret):
            value = make_secret("tok")
            with capture_logs():
                structlog.get_logger().info("token.read", note=value)

        def test_logs_names_only(make_secret):
            make_secret("tok")
            with capture_logs():
                structlog.get_logger().info("token.read", item="devvm")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*secret leak*structlog event token.read*"])


def test_a_secret_in_rendered_journal_fields_fails_the_test(pytester: pytest.Pytester) -> None:
    """Journal fields rendered in-process are scanned like any output."""
    pytester.makeconftest('pytest_plugins = ["tests.leakguard"]')
    pytester.makepyfile(
        """
        from renewer.logging import render_journal

        def test_renders_it(make_secret):
            value = make_secret("tok")
            render_journal(None, "info", {"event": "x.y", "level": "info", "extra": {"v": value}})
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*secret leak*journal fields x.y*"])
