"""One profile of an AWS shared credentials file, edited in place, every other byte kept.

Pure and stdlib-only: the file's text in, the new text out. ``configparser``
would lose comments, blank lines, key order and spacing, and people keep
hand-written notes in ``~/.aws/credentials``; so this is a small line-based
editor that reads the file the way botocore's ``configparser`` does and
touches only what it must.

Rules, each pinned by a test (and the first three by Hypothesis):

* a *header* is an unindented line whose text (stripped) matches
  ``configparser``'s ``\\[(?P<header>.+)\\]``; the profile is the section whose
  header names it exactly (case matters, as in botocore). A section runs to
  the next header or the end of the file;
* every line outside that section is kept byte for byte; so is every line
  inside it that is not a *managed* key (``region``, comments, blank lines,
  other keys stay where they are);
* a managed key that is given a value is rewritten in place as
  ``key = value`` on its first occurrence (its continuation lines, indented
  lines after it, go with it); later occurrences are removed; a managed key
  without a value this time is removed (a long-lived key must not keep a
  stale ``aws_session_token`` beside it); new keys go after the section's
  last non-blank line, in the order given;
* a missing section is appended at the end, after a blank line;
* applying the same values twice changes nothing the second time;
* new lines use the file's line ending (``\\r\\n`` if it has any, else ``\\n``);
* lines end where botocore's ``configparser`` ends them, reading a file:
  at ``\n``, ``\r`` and ``\r\n`` only (``str.splitlines`` also breaks at
  ``\v``, ``\f``, ``\x1c``-``\x1e``, ``\x85``, ``\u2028``, ``\u2029``);
* refused, with a :class:`ProfileFileError` whose message names no value: a
  profile whose header appears twice (botocore refuses such a file too), a
  profile followed by an indented header (a key added before it would turn
  it into part of that key's value for configparser), a
  profile name, key or value holding any character some reader breaks a line
  at (:data:`renewer.core.printable.LINE_BREAKS`, whatever the value's
  source: a stored secret or an STS answer; issue 20) or NUL.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from renewer.core.printable import fits_one_line

# configparser's defaults: SECTCRE and OPTCRE, comment prefixes '#' and ';'.
_HEADER = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*[=:]\s*(?P<value>.*)$")
_COMMENT_PREFIXES = ("#", ";")

MANAGED_KEYS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",  # the pre-2014 name some tools still write
        "x_security_token_expires",  # saml2aws' expiry key, read by prompts and helpers
    }
)


class ProfileFileError(ValueError):
    """The file or the values cannot be edited safely (the message holds no value)."""


@dataclass(frozen=True, slots=True)
class _Line:
    """One line and what configparser makes of it."""

    text: str  # with its line ending
    header: str | None = None  # the section name, for a header line
    key: str | None = None  # the lower-cased option name, for an option line
    owner: int | None = None  # for a continuation line: the index of its option line
    value: str = ""  # for an option line: the text after the delimiter, stripped


def _lines(text: str) -> list[_Line]:
    """Classify every line the way ``configparser.RawConfigParser._read`` does.

    A non-blank, non-comment line indented deeper than the last option or
    header line, after an option of the same section, continues that option
    (blank and comment lines in between do not end it).
    """
    lines: list[_Line] = []
    option: int | None = None  # index of the current option line
    indent = 0
    # newline="": universal newlines, endings kept; what open() gives configparser.
    for text_line in io.StringIO(text, newline=""):
        body = text_line.rstrip("\r\n")
        stripped = body.strip()
        if not stripped or stripped.startswith(_COMMENT_PREFIXES):
            lines.append(_Line(text_line))
            continue
        level = len(body) - len(body.lstrip())
        if option is not None and level > indent:
            lines.append(_Line(text_line, owner=option))
            continue
        indent = level
        header = _HEADER.match(stripped)
        if header is not None:
            lines.append(_Line(text_line, header=header.group("header")))
            option = None
            continue
        match = _OPTION.match(stripped)
        if match is not None and match.group("option").strip():
            option = len(lines)
            lines.append(
                _Line(
                    text_line,
                    key=match.group("option").strip().lower(),
                    value=match.group("value").strip(),
                )
            )
            continue
        lines.append(_Line(text_line))  # configparser would call this a parsing error
    return lines


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _ends_line(text: str) -> bool:
    return text.endswith(("\n", "\r"))


def _section_bounds(lines: Sequence[_Line], profile: str) -> tuple[int, int] | None:
    """(header index, end index) of *profile*'s section, or None; two headers refuse."""
    starts = [index for index, line in enumerate(lines) if line.header == profile]
    if len(starts) > 1:
        raise ProfileFileError(f"profile [{profile}] appears {len(starts)} times in the file")
    if not starts:
        return None
    start = starts[0]
    end = next(
        (index for index in range(start + 1, len(lines)) if lines[index].header is not None),
        len(lines),
    )
    return start, end


def _check(profile: str, values: Sequence[tuple[str, str]]) -> None:
    if (
        not profile
        or any(char in profile for char in "[]")
        or not fits_one_line(profile)
        or profile != profile.strip()
    ):
        raise ProfileFileError("the profile name must be one word without brackets or newlines")
    for key, value in values:
        if not key or key != key.lower() or any(char in key for char in " =:[]#;"):
            raise ProfileFileError(f"{key!r} is not a lower-case option name")
        if not fits_one_line(key):
            raise ProfileFileError("an option name holds a line break")
        if not fits_one_line(value) or value != value.strip():
            raise ProfileFileError(
                f"the value of {key} cannot be written on one line "
                "(it holds a line break, NUL or surrounding spaces)"
            )


def set_profile(
    text: str,
    profile: str,
    values: Sequence[tuple[str, str]],
    *,
    managed: Collection[str] = MANAGED_KEYS,
) -> str:
    """*text* with *profile* holding *values*, by the rules in the module docstring."""
    _check(profile, values)
    newline = _newline(text)
    wanted = dict(values)
    lines = _lines(text)
    bounds = _section_bounds(lines, profile)
    if bounds is None:
        return _append_section(text, profile, values, newline)
    start, end = bounds
    if end < len(lines) and lines[end].text[:1].isspace():
        # configparser reads an indented header as a header only while no option
        # precedes it: after a key renewer adds, it would become part of that value.
        raise ProfileFileError(
            f"the header after profile [{profile}] is indented; botocore could read it as "
            "part of the profile's last value"
        )
    continued = {line.owner for line in lines[start + 1 : end] if line.owner is not None}
    dropped: set[int] = set()  # option lines whose continuations go too
    kept: list[str] = []
    written: set[str] = set()
    for index in range(start + 1, end):
        line = lines[index]
        if line.owner is not None:
            if line.owner not in dropped:
                kept.append(line.text)
            continue
        if line.key is None or (line.key not in managed and line.key not in wanted):
            kept.append(line.text)
            continue
        if line.key in wanted and line.key not in written:
            written.add(line.key)
            if line.value == wanted[line.key] and index not in continued:
                kept.append(line.text)  # already right: not a byte changes
                continue
            kept.append(f"{line.key} = {wanted[line.key]}{_ending(line.text, newline)}")
        dropped.add(index)
    header = lines[start].text
    missing = [f"{key} = {value}{newline}" for key, value in values if key not in written]
    if missing:
        last = max((i for i, item in enumerate(kept) if item.strip()), default=-1)
        if last >= 0 and not _ends_line(kept[last]):
            kept[last] += newline
        if last < 0 and not _ends_line(header):
            header += newline
        kept[last + 1 : last + 1] = missing
    before = "".join(line.text for line in lines[:start])
    after = "".join(line.text for line in lines[end:])
    return before + header + "".join(kept) + after


def _ending(text: str, default: str) -> str:
    if text.endswith("\r\n"):
        return "\r\n"
    if text.endswith(("\n", "\r")):
        return text[-1]
    return default


def _append_section(
    text: str, profile: str, values: Sequence[tuple[str, str]], newline: str
) -> str:
    prefix = text
    if prefix and not _ends_line(prefix):
        prefix += newline
    if prefix.strip() and prefix.splitlines()[-1].strip():
        prefix += newline  # one blank line between the last section and ours
    section = f"[{profile}]{newline}" + "".join(f"{k} = {v}{newline}" for k, v in values)
    return prefix + section


def read_profile(text: str, profile: str) -> dict[str, str] | None:
    """The keys of *profile* as botocore reads them (first line of each value), or None."""
    lines = _lines(text)
    bounds = _section_bounds(lines, profile)
    if bounds is None:
        return None
    start, end = bounds
    found: dict[str, str] = {}
    for line in lines[start + 1 : end]:
        if line.key is not None and line.key not in found:
            found[line.key] = line.value
    return found
