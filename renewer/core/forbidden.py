"""A 403 from Vault: is the caller's token dead, or did a policy say no?

Both answers are 403 and both say "permission denied"; what tells them apart
is how the words are wrapped, because they come from two different places in
the server's request pipeline:

* **The token is dead** (unknown, expired, revoked, used up; or no token at
  all). ``CheckToken`` fails before any policy is looked at and returns the
  bare ``logical.ErrPermissionDenied``, which the handler turns into the
  error response's message as is:

  - OpenBao (2.x) and Vault before 1.17: ``{"errors":["permission denied"]}``
    (openbao ``internal/vault/request_handling.go``: ``fetchACLTokenEntryAndEntity``
    returns ``logical.ErrPermissionDenied``; ``handleRequest`` answers
    ``logical.ErrorResponse(ctErr.Error())``; seen on OpenBao 2.7.2);
  - Vault 1.17 and later: ``{"errors":["2 errors occurred:\\n\\t* permission
    denied\\n\\t* invalid token\\n\\n"]}`` (hashicorp/vault#25953; documented
    in hashicorp/vault#26687, "Error Responses" in ``concepts/tokens``).

* **A policy says no** (the token is alive). ``CheckToken`` appends the denial
  to a multierror (``multierror.Append(retErr, logical.ErrPermissionDenied)``),
  so every version answers ``{"errors":["1 error occurred:\\n\\t* permission
  denied\\n\\n"]}``.

The distinction matters to a person: a dead token needs a login (``vault
login`` then ``renewer mint``); a denial needs a policy change. Anything
that is neither shape (a proxy's HTML 403, a handler's own message such as
``bad token`` for a token named in the body) is a denial: renewer asks for a
login only when Vault's answer says the caller's token is the problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum

_MULTIERROR_HEADER = re.compile(r"^\s*\d+ errors? occurred:")
_ITEM = re.compile(r"^\s*\*\s*", re.MULTILINE)


class Forbidden(Enum):
    """Why Vault answered 403."""

    DEAD_TOKEN = "dead-token"  # the caller's token is unknown, expired or revoked (or absent)
    DENIED = "denied"  # the token is alive and its policies do not allow the request


def error_items(message: str) -> tuple[str, ...]:
    """The errors inside one of Vault's error strings (a multierror's items, or itself)."""
    if not _MULTIERROR_HEADER.match(message):
        text = " ".join(message.split())
        return (text,) if text else ()
    body = _MULTIERROR_HEADER.sub("", message, count=1)
    items = (" ".join(item.split()) for item in _ITEM.split(body))
    return tuple(item for item in items if item)


def is_wrapped(message: str) -> bool:
    """Whether *message* is a multierror (``N error(s) occurred: ...``)."""
    return bool(_MULTIERROR_HEADER.match(message))


def classify_forbidden(errors: Sequence[str] | None) -> Forbidden:
    """The reason behind a 403 whose JSON ``errors`` list is *errors* (None: not JSON)."""
    if not errors:
        return Forbidden.DENIED
    if any("invalid token" in error_items(error) for error in errors):
        return Forbidden.DEAD_TOKEN  # Vault >= 1.17 names it
    if len(errors) == 1 and not is_wrapped(errors[0]) and errors[0].strip() == "permission denied":
        return Forbidden.DEAD_TOKEN  # OpenBao, Vault < 1.17: the bare error of CheckToken
    return Forbidden.DENIED
