"""Where a credential may go: its recipe's site (recipe URLs), its base URL's origin (requests).

Pure: URLs, allowlists and a *site_of* function in, verdicts out. No DNS, no
network. What a site is comes from the Public Suffix List, which lives in
the shell (:mod:`renewer.publicsuffix`); here it is the *site_of* argument.
Design: seed 004 §11 (a recipe whose ``token_url`` is ``https://evil.com``
must be caught), product.md §3 ("refused unless allowlisted"), issue 16.

Rules, each pinned by a test:

* a URL must be ``https``, or ``http`` to a loopback host (127.0.0.0/8,
  ``::1``, ``localhost``): anything else would send secrets in clear;
* **the recipe rule** (:func:`check_same_site`, for the URLs a recipe names:
  ``token_url``, ``authorize_url``, ``token_exchange.endpoint``, STS, extra
  origins): a URL on the base URL's *site* (its registrable domain by the
  Public Suffix List: ``victim.workers.dev`` and ``attacker.workers.dev``
  are two sites, ``api.github.com`` and ``github.com`` one) is allowed;
  ports do not matter here (a loopback IdP and its API on two ports of
  127.0.0.1 are one site). Any other host is allowed only when an allowlist
  entry equals it or is a parent domain of it (``example.com`` allows
  ``auth.example.com``);
* **the origin rule** (:func:`check_origin`, for every request that carries
  a credential: ``bind``, ``creds call``, and each redirect hop): the
  request's origin (scheme, host, port; default ports filled in) must be
  the base URL's origin or one the recipe lists in ``allowed_origins``.
  Another port of the same host is another origin, and so is http on an
  https host;
* :func:`is_absolute` decides what a caller's URL is: only
  ``scheme://...`` at the very start is absolute; ``/search?next=https://x``
  and ``projects:list`` are paths relative to the base URL.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

SiteOf = Callable[[str], str]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True, order=True)
class Origin:
    """RFC 6454's origin of an http(s) URL: scheme, host (lower case, no trailing dot), port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def is_absolute(url: str) -> bool:
    """True when *url* starts with ``scheme://``; anything else is a path under the base URL."""
    return bool(_ABSOLUTE.match(url))


def host_of(url: str) -> str | None:
    """The lower-case host of *url* without a trailing dot, or None when it has none."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) *url*, or None when it has none."""
    parts = _split(url)
    if parts is None or parts.scheme not in _DEFAULT_PORTS:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    return Origin(parts.scheme, host, parts.port or _DEFAULT_PORTS[parts.scheme])


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_allowlisted(host: str, allow: Collection[str]) -> bool:
    """True when an entry of *allow* is *host* or a parent domain of it."""
    for entry in allow:
        parent = entry.rstrip(".").lower()
        if host == parent or host.endswith("." + parent):
            return True
    return False


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return parts if parts.hostname else None


def check_transport(url: str) -> str | None:
    """Why *url* may not carry a secret, or None when it may."""
    parts = _split(url)
    if parts is None:
        return f"{url!r} is not an absolute http(s) URL"
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback(host):
        return None
    if parts.scheme == "http":
        return f"{url} is plain http to {host}: secrets would cross the network in clear"
    return f"{url!r} is not an http(s) URL"


def check_same_site(
    url: str, *, base_url: str, site_of: SiteOf, allow: Collection[str] = ()
) -> str | None:
    """Why *url* is outside *base_url*'s site (and not allowlisted), or None when it is fine."""
    problem = check_transport(url)
    if problem:
        return problem
    host, base_host = host_of(url), host_of(base_url)
    if host is None or base_host is None:
        return f"{url!r} has no host"
    # The cheap answers first: site_of may have to load the Public Suffix List.
    if host == base_host or is_allowlisted(host, allow) or site_of(host) == site_of(base_host):
        return None
    return (
        f"{url} leaves the service's site {site_of(base_host)} "
        f"(host {host} is another site, and not allowlisted)"
    )


def check_origin(url: str, *, base_url: str, allowed: Collection[Origin] = ()) -> str | None:
    """Why an absolute *url* may not receive *base_url*'s credential, or None when it may.

    The message names the origin only: never the path or the query, where a
    caller's (or an injected) secret may sit.
    """
    target, base = origin_of(url), origin_of(base_url)
    if target is None or base is None:
        return "the URL is not an absolute http(s) URL"
    if target == base or target in allowed:
        return None
    if target.host == base.host and base.scheme == "https" and target.scheme == "http":
        return f"{target} would downgrade {base}'s https to http"
    return f"{target} is not the service's origin {base}, nor one its recipe allows"


def safe_url(url: str) -> str:
    """*url* without its query, fragment and user info: fit for a message."""
    parts = _split(url)
    if parts is None:
        return "the URL"
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
