"""The OAuth parameters renewer sets itself, which no recipe may set or override.

Its own room: a security rule with three readers, the recipe schema's
``$defs.oauth_params`` (kept equal by a test), the ``oauth2`` primitive and
the JWT-bearer exchange, each checking before any request is built.
"""

from __future__ import annotations

from collections.abc import Mapping

# OAuth parameters renewer sets itself: who the client is, where the code goes,
# which grant, PKCE, state. A recipe that could set them through
# ``authorize_params``/``token_params``/``token_exchange.params`` could switch to the
# implicit grant, drop PKCE or send the code to another host (issue 20, item 3).
# schema.json's ``$defs.oauth_params`` refuses the same names (a test keeps
# them equal); the primitives check again before any request is built.
# A JWT-bearer exchange (RFC 7523) sets only its grant, the assertion and the
# scope; a ``client_id`` there is a server's extra field, not renewer's.
JWT_BEARER_PROTOCOL_PARAMS = frozenset({"grant_type", "assertion", "scope"})
OAUTH_PROTOCOL_PARAMS = frozenset(
    {
        "assertion",
        "client_assertion",
        "client_assertion_type",
        "client_id",
        "client_secret",
        "code",
        "code_challenge",
        "code_challenge_method",
        "code_verifier",
        "device_code",
        "grant_type",
        "password",
        "redirect_uri",
        "refresh_token",
        "request",
        "request_uri",
        "response_mode",
        "response_type",
        "scope",
        "state",
        "username",
    }
)


def protocol_params_in(
    params: Mapping[str, str], names: frozenset[str] = OAUTH_PROTOCOL_PARAMS
) -> list[str]:
    """The keys of *params* that are among the protocol parameter *names* (any case), sorted."""
    return sorted(key for key in params if key.strip().lower() in names)
