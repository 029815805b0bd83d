"""The claim set of a JWT-bearer assertion (RFC 7523; Google's service-account flow).

Pure: the issuer, audience, clock reading and options in; the header and the
claims out. Signing happens in the shell (``renewer.primitives.service_account``)
with joserfc; nothing here sees a key.

Rules, each pinned by a test:

* ``iat`` is the clock reading rounded down to a whole second; ``exp`` is
  ``iat + ttl``; *ttl* is between 1 and :data:`MAX_TTL` seconds (Google
  refuses assertions that live longer than an hour, and a short assertion
  is worth less to anyone who copies it);
* ``iss`` and ``aud`` are required and non-empty; ``sub`` is the subject
  when one is given (Google: domain-wide delegation to that user); without
  one it is the issuer when *subject_is_issuer* (RFC 7523 §3: ``sub`` is a
  MUST, and a client acting for itself is its own subject), else absent
  (Google's own flow, which its client libraries follow);
* ``scope`` is the scopes joined by spaces, in the order given, without
  repeats, and only when there are scopes and the caller puts them in the
  assertion (Google does; generic servers usually take a ``scope`` form
  parameter instead);
* ``jti`` is set when given (a server may refuse a replayed assertion);
* extra claims are added as they are, but may not replace a registered
  claim this module sets (``iss``, ``sub``, ``aud``, ``iat``, ``exp``,
  ``nbf``, ``jti``, ``scope``): a recipe cannot forge the lifetime;
* the header is ``{"alg": ..., "typ": "JWT"}`` plus ``kid`` when a key id is
  known (Google uses it to pick the key among the account's keys);
  *alg* is one of :data:`ALGORITHMS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_TTL = 3600
ALGORITHMS = ("RS256", "ES256")
RESERVED = frozenset({"iss", "sub", "aud", "iat", "exp", "nbf", "jti", "scope"})


class AssertionProblem(ValueError):
    """The inputs cannot make a valid assertion (the message names the field, no value)."""


@dataclass(frozen=True, slots=True)
class Assertion:
    """What to sign: a JOSE header and a claim set."""

    header: Mapping[str, str]
    claims: Mapping[str, str | int] = field(repr=False)

    @property
    def expires_at(self) -> int:
        value = self.claims["exp"]
        assert isinstance(value, int)
        return value


def join_scopes(scopes: Sequence[str]) -> str:
    """Scopes as one space-separated string, first occurrence of each kept."""
    seen: list[str] = []
    for scope in scopes:
        if scope and scope not in seen:
            seen.append(scope)
    return " ".join(seen)


def plan_assertion(
    *,
    issuer: str,
    audience: str,
    now: float,
    ttl: int,
    algorithm: str,
    subject: str | None = None,
    scopes: Sequence[str] = (),
    scope_in_assertion: bool = True,
    key_id: str | None = None,
    jti: str | None = None,
    extra: Mapping[str, str] | None = None,
    subject_is_issuer: bool = False,
) -> Assertion:
    """The header and claims by the rules in the module docstring."""
    if algorithm not in ALGORITHMS:
        raise AssertionProblem(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    if not issuer:
        raise AssertionProblem("the issuer (iss) is empty")
    if not audience:
        raise AssertionProblem("the audience (aud) is empty")
    if not 1 <= ttl <= MAX_TTL:
        raise AssertionProblem(f"the assertion lifetime must be 1 to {MAX_TTL} seconds")
    if not math.isfinite(now) or now < 0:
        raise AssertionProblem("the clock reading is not a usable time")
    clashing = sorted(RESERVED & set(extra or {}))
    if clashing:
        raise AssertionProblem(f"extra claims may not set {', '.join(clashing)}")
    issued = int(now)
    claims: dict[str, str | int] = {"iss": issuer, "aud": audience, "iat": issued}
    claims["exp"] = issued + ttl
    if subject or subject_is_issuer:
        claims["sub"] = subject or issuer
    scope = join_scopes(scopes)
    if scope and scope_in_assertion:
        claims["scope"] = scope
    if jti:
        claims["jti"] = jti
    claims.update(extra or {})
    header = {"alg": algorithm, "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    return Assertion(header=header, claims=claims)
