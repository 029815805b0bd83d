"""Where a recipe may send a credential: its own service's domain, or an allowlisted host.

Pure: URLs and the allowlist in, verdicts out. No DNS, no network.
Design: seed 004 §11 (a recipe whose ``token_url`` is ``https://evil.com``
must be caught), product.md §3 ("refused unless allowlisted").

Rules, each pinned by a test:

* a URL must be ``https``, or ``http`` to a loopback host (127.0.0.0/8,
  ``::1``, ``localhost``): anything else would send secrets in clear;
* the *site* of a host is its registrable domain, approximated without the
  public suffix list: the last two labels, or three when the last is a
  two-letter country code and the second-to-last a generic word (``co.uk``,
  ``com.au``); an IP address is its own site. ``api.github.com`` and
  ``github.com`` share the site ``github.com``; ``www.googleapis.com`` and
  ``oauth2.googleapis.com`` share ``googleapis.com``;
* a URL on the base URL's site is allowed (ports do not matter: a loopback
  test server and its API on two ports of 127.0.0.1 are one site);
* any other host is allowed only when an allowlist entry equals it or is a
  parent domain of it (``example.com`` allows ``auth.example.com``);
* :func:`check_same_host` is the stricter rule for ``bind``: an absolute URL
  must name the base URL's exact host (or an allowlisted one), and must not
  downgrade https to http.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit

_GENERIC_SECOND_LEVEL = frozenset(
    {"ac", "co", "com", "edu", "go", "gov", "gv", "ltd", "mil", "ne", "net", "or", "org", "plc"}
)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def host_of(url: str) -> str | None:
    """The lower-case host of *url* without a trailing dot, or None when it has none."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def site_of(host: str) -> str:
    """The registrable domain of *host* by the approximation in the module docstring."""
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


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


def check_same_site(url: str, *, base_url: str, allow: Collection[str] = ()) -> str | None:
    """Why *url* is outside *base_url*'s site (and not allowlisted), or None when it is fine."""
    problem = check_transport(url)
    if problem:
        return problem
    host, base_host = host_of(url), host_of(base_url)
    if host is None or base_host is None:
        return f"{url!r} has no host"
    if site_of(host) == site_of(base_host) or is_allowlisted(host, allow):
        return None
    return (
        f"{url} leaves the service's domain {site_of(base_host)} (host {host} is not allowlisted)"
    )


def check_same_host(url: str, *, base_url: str, allow: Collection[str] = ()) -> str | None:
    """Why an absolute *url* may not receive *base_url*'s credential, or None when it may."""
    problem = check_transport(url)
    if problem:
        return problem
    target, base = _split(url), _split(base_url)
    if target is None or base is None:
        return f"{url!r} has no host"
    host = (target.hostname or "").rstrip(".").lower()
    base_host = (base.hostname or "").rstrip(".").lower()
    if base.scheme == "https" and target.scheme != "https":
        return f"{url} would downgrade {base_host}'s https to http"
    if host == base_host or is_allowlisted(host, allow):
        return None
    return f"{url} is on {host}, not on the service's host {base_host} (and not allowlisted)"
