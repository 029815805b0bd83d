"""Pure parts of sinks and hooks: env quoting, rendering, hook environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.credentials.hooks import hook_environment
from renewer.credentials.sinks import quote_env, render_sink
from renewer.credentials.spec import SinkSpec
from renewer.errors import CredentialError

VALUES = {"secret": {"token": "tok-123456"}, "const": {}, "runtime": {}}


class TestQuoteEnv:
    @pytest.mark.parametrize(
        ("value", "written"),
        [("abc-123_x.y/z+=", "abc-123_x.y/z+="), ("a b", "'a b'"), ("$HOME", "'$HOME'"), ("", "")],
    )
    def test_values_are_written_plain_or_single_quoted(self, value: str, written: str) -> None:
        """Token-like values stay bare; anything a shell would expand is single-quoted."""
        assert quote_env(value) == written

    @pytest.mark.parametrize("value", ["it's", "a\nb", "tab\there", "nul\x00"])
    def test_values_no_reader_agrees_on_are_refused(self, value: str) -> None:
        """Quotes, newlines and control characters cannot be written safely."""
        with pytest.raises(ValueError, match="quote, a line break or a control character"):
            quote_env(value)


@given(value=st.text(alphabet=st.characters(blacklist_characters="'", blacklist_categories=["Cc"])))
def test_quoted_values_read_back_identically(value: str) -> None:
    """For the values we accept, stripping our quoting gives the value back."""
    written = quote_env(value)

    assert (written[1:-1] if written.startswith("'") else written) == value


class TestRenderSink:
    def test_file_sink_uses_the_default_value(self) -> None:
        """No value: the primitive's default, without a trailing newline."""
        content = render_sink(
            SinkSpec("file", Path("/x")), VALUES, credential="c", default_value="{{secret.token}}"
        )

        assert content.data == b"tok-123456"

    def test_env_sink_has_a_header_and_one_line_per_var(self) -> None:
        """The header says who writes the file."""
        spec = SinkSpec("env", Path("/x.env"), vars={"A": "{{secret.token}}", "B": "x y"})

        content = render_sink(spec, VALUES, credential="c", default_value="")

        assert content.data.decode().splitlines() == [
            "# written by renewer for credential c; changes are overwritten",
            "A=tok-123456",
            "B='x y'",
        ]

    def test_unknown_value_names_the_sink(self) -> None:
        """A template naming a missing key points at the sink and the recipe."""
        with pytest.raises(CredentialError, match=r"sink /x: \{\{secret.nope\}\} has no value"):
            render_sink(
                SinkSpec("file", Path("/x"), value="{{secret.nope}}"),
                VALUES,
                credential="c",
                default_value="",
            )

    def test_repr_hides_the_content(self) -> None:
        """A SinkContent in a log line shows its path only."""
        content = render_sink(
            SinkSpec("file", Path("/x")), VALUES, credential="c", default_value="{{secret.token}}"
        )

        assert "tok-123456" not in repr(content)


class TestHookEnvironment:
    def test_names_and_paths_are_given_and_vault_token_removed(self) -> None:
        """The hook learns what changed and where; never a secret."""
        env = hook_environment(
            {"PATH": "/bin", "VAULT_TOKEN": "hvs.x"},
            credential="c",
            sink_paths=[Path("/a"), Path("/b")],
        )

        assert env == {
            "PATH": "/bin",
            "RENEWER_CREDENTIAL": "c",
            "RENEWER_SINKS": "/a:/b",
            "RENEWER_SINK_0": "/a",
            "RENEWER_SINK_1": "/b",
        }
