"""Tests for renewer.core.aws_profile: one profile edited, every other byte kept."""

from __future__ import annotations

import configparser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.aws_profile import ProfileFileError, read_profile, set_profile

SESSION = [
    ("aws_access_key_id", "ASIAEXAMPLE"),
    ("aws_secret_access_key", "secret/+x"),
    ("aws_session_token", "token=="),
    ("x_security_token_expires", "2030-01-01T00:00:00Z"),
]
FILE = """\
# my credentials; keep this comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = defaultsecret

; the dev profile is renewer's
[dev]
region = eu-west-1
aws_access_key_id=OLD
aws_session_token = old-token
  continued-old-token

[other]   ; trailing words after a header
aws_access_key_id = AKIAOTHER
"""


def parsed(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


class TestSetProfile:
    def test_only_the_managed_keys_of_the_profile_change(self) -> None:
        """region, comments and the other sections stay byte for byte."""
        result = set_profile(FILE, "dev", SESSION)

        assert result == FILE.replace(
            "aws_access_key_id=OLD\naws_session_token = old-token\n  continued-old-token\n",
            "aws_access_key_id = ASIAEXAMPLE\naws_session_token = token==\n"
            "aws_secret_access_key = secret/+x\nx_security_token_expires = 2030-01-01T00:00:00Z\n",
        )
        assert dict(parsed(result)["dev"]) == {"region": "eu-west-1", **dict(SESSION)}

    def test_a_missing_profile_is_appended_after_a_blank_line(self) -> None:
        """The file ends with the new section; everything before it is unchanged."""
        result = set_profile("[default]\nregion = x", "dev", SESSION[:2])

        assert result == (
            "[default]\nregion = x\n\n[dev]\naws_access_key_id = ASIAEXAMPLE\n"
            "aws_secret_access_key = secret/+x\n"
        )

    def test_an_empty_file_gets_just_the_section(self) -> None:
        """No leading blank line in a new file."""
        assert set_profile("", "dev", SESSION[:1]) == "[dev]\naws_access_key_id = ASIAEXAMPLE\n"

    def test_a_long_lived_key_removes_a_stale_session_token(self) -> None:
        """Managed keys without a value this time are removed."""
        result = set_profile(FILE, "dev", SESSION[:2])

        assert read_profile(result, "dev") == {
            "region": "eu-west-1",
            "aws_access_key_id": "ASIAEXAMPLE",
            "aws_secret_access_key": "secret/+x",
        }
        assert "old-token" not in result

    def test_values_already_there_change_nothing(self) -> None:
        """A file that already says it, in any spelling, is returned as it is."""
        text = "[dev]\naws_access_key_id:ASIAEXAMPLE\nAWS_SECRET_ACCESS_KEY =  secret/+x\n"

        assert set_profile(text, "dev", SESSION[:2]) == text

    def test_crlf_files_keep_crlf(self) -> None:
        """New lines use the file's line ending."""
        result = set_profile("[a]\r\nk = v\r\n", "dev", SESSION[:1])

        assert result == "[a]\r\nk = v\r\n\r\n[dev]\r\naws_access_key_id = ASIAEXAMPLE\r\n"

    def test_a_header_without_a_newline_at_the_end_of_the_file(self) -> None:
        """The keys go on their own lines under it."""
        result = set_profile("[dev]", "dev", SESSION[:1])

        assert result == "[dev]\naws_access_key_id = ASIAEXAMPLE\n"

    def test_profile_names_are_case_sensitive(self) -> None:
        """[Dev] is another profile for botocore, so it is left alone."""
        result = set_profile("[Dev]\naws_access_key_id = X\n", "dev", SESSION[:1])

        assert read_profile(result, "Dev") == {"aws_access_key_id": "X"}
        assert read_profile(result, "dev") == {"aws_access_key_id": "ASIAEXAMPLE"}

    def test_duplicate_keys_in_the_profile_are_collapsed(self) -> None:
        """The first occurrence is rewritten, later ones removed."""
        text = "[dev]\naws_access_key_id = A\naws_access_key_id = B\n"

        result = set_profile(text, "dev", SESSION[:1])

        assert result == "[dev]\naws_access_key_id = ASIAEXAMPLE\n"

    def test_an_indented_header_after_a_key_is_a_continuation(self) -> None:
        """configparser reads '  [x]' after an option as part of its value; so do we."""
        text = "[dev]\naws_session_token = a\n  [other]\nregion = r\n"

        result = set_profile(text, "dev", SESSION[:1])

        assert result == "[dev]\nregion = r\naws_access_key_id = ASIAEXAMPLE\n"

    @pytest.mark.parametrize(
        ("profile", "values"),
        [
            ("", SESSION[:1]),
            ("a]b", SESSION[:1]),
            ("dev\n", SESSION[:1]),
            ("dev", [("aws_session_token", "a\nb")]),
            ("dev", [("aws_session_token", " padded ")]),
            ("dev", [("Upper", "x")]),
            ("dev", [("a key", "x")]),
        ],
        ids=["empty", "bracket", "newline-name", "newline-value", "padded", "upper", "space-key"],
    )
    def test_unwritable_names_and_values_are_refused(
        self, profile: str, values: list[tuple[str, str]]
    ) -> None:
        """Nothing that would change the file's structure is written."""
        with pytest.raises(ProfileFileError) as caught:
            set_profile(FILE, profile, values)

        assert "a\nb" not in str(caught.value)
        assert " padded " not in str(caught.value)

    def test_a_profile_that_appears_twice_is_refused(self) -> None:
        """botocore refuses such a file too; guessing which one to edit would be worse."""
        with pytest.raises(ProfileFileError, match=r"\[dev\] appears 2 times"):
            set_profile("[dev]\na = 1\n[dev]\nb = 2\n", "dev", SESSION[:1])


class TestReadProfile:
    def test_missing_profile_is_none(self) -> None:
        """None, not an empty mapping."""
        assert read_profile(FILE, "nope") is None

    def test_keys_are_read_like_botocore(self) -> None:
        """Lower-cased names, stripped values, ':' and '=' both delimit."""
        assert read_profile("[p]\n Key : v \nother=w\n", "p") == {"key": "v", "other": "w"}


# --- properties --------------------------------------------------------------

names = st.sampled_from(["default", "dev", "prod", "ci", "Dev"])
keys = st.sampled_from(
    ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region", "output"]
)
plain = st.text(alphabet="abcXYZ019/+=-_.", min_size=1, max_size=8)
spacing = st.sampled_from(["=", " = ", ": ", " =", "=  "])


@st.composite
def section_lines(draw: st.DrawFn) -> list[str]:
    """The body of one section: options (maybe continued), comments and blank lines."""
    lines: list[str] = []
    used: set[str] = set()
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["option", "comment", "blank"]))
        if kind == "option":
            key = draw(keys)
            if key in used:
                continue
            used.add(key)
            lines.append(f"{key}{draw(spacing)}{draw(plain)}")
            if draw(st.booleans()) and draw(st.booleans()):
                lines.append(f"    {draw(plain)}")
        elif kind == "comment":
            lines.append(draw(st.sampled_from(["#", ";"])) + draw(st.text("abc !", max_size=6)))
        else:
            lines.append("")
    return lines


@st.composite
def credential_files(draw: st.DrawFn) -> str:
    """Files configparser (strict, like botocore) accepts."""
    lines = [f"# {draw(st.text('ab ', max_size=5))}"] if draw(st.booleans()) else []
    for name in draw(st.lists(names, unique=True, max_size=4)):
        lines.append(f"[{name}]")
        lines.extend(draw(section_lines()))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    final_newline: bool = draw(st.booleans())
    text = newline.join(lines)
    return text + newline if lines and final_newline else text


new_values = st.lists(
    st.tuples(
        st.sampled_from(
            ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region"]
        ),
        plain,
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda item: item[0],
)


def other_sections(text: str, profile: str) -> dict[str, dict[str, str]]:
    parser = parsed(text)
    return {name: dict(parser[name]) for name in parser.sections() if name != profile}


@given(text=credential_files(), profile=names, values=new_values)
def test_other_sections_and_comments_are_never_changed(
    text: str, profile: str, values: list[tuple[str, str]]
) -> None:
    """Every line outside the profile's section is kept, in order, byte for byte."""
    result = set_profile(text, profile, values)

    def outside(document: str) -> list[str]:
        kept, inside = [], False
        for line in document.splitlines():
            if line.startswith("["):
                inside = line.split("]")[0] == f"[{profile}"
            if not inside and line.strip():
                kept.append(line)
        return kept

    assert outside(result) == outside(text)
    assert other_sections(result, profile) == other_sections(text, profile)


@given(text=credential_files(), profile=names, values=new_values)
def test_botocore_reads_exactly_the_new_values(
    text: str, profile: str, values: list[tuple[str, str]]
) -> None:
    """After the edit, configparser sees the values given and the profile's other keys."""
    before = parsed(text)
    kept = {
        key: value
        for key, value in (before[profile].items() if before.has_section(profile) else [])
        if key not in {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    }

    after = parsed(set_profile(text, profile, values))

    assert dict(after[profile]) == {**kept, **dict(values)}


@given(text=credential_files(), profile=names, values=new_values)
def test_applying_the_same_values_again_is_a_no_op(
    text: str, profile: str, values: list[tuple[str, str]]
) -> None:
    """The second application returns its input unchanged."""
    once = set_profile(text, profile, values)

    assert set_profile(once, profile, values) == once


def test_a_profile_followed_by_an_indented_header_is_refused() -> None:
    """'\\v[default]' after [dev] is a header until a key precedes it; then a continuation."""
    with pytest.raises(ProfileFileError, match="is indented"):
        set_profile("[dev]\n\x0b[default]\n", "dev", [("aws_access_key_id", "AKIA")])
