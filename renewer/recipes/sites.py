"""What a *site* is: the Public Suffix List, from the snapshot bundled with ``publicsuffixlist``.

The recipe rule (:func:`renewer.core.domains.check_same_site`) needs to know
that ``victim.workers.dev`` and ``attacker.workers.dev`` belong to two
different people while ``api.github.com`` and ``github.com`` belong to one.
Counting labels cannot tell; the Public Suffix List can, private section
included (``workers.dev``, ``github.io``, ``herokuapp.com``, and also
``googleapis.com`` are suffixes under which anyone may own a name).

Why ``publicsuffixlist`` (and not ``tldextract``): it ships the list inside
the wheel, has no dependencies, and never touches the network — updating
is an explicit command nobody runs here; the lock pins the snapshot, and
``renewer check`` names its date. ``tldextract``
fetches the list over HTTP on first use and caches it under ``~/.cache``
unless every call disables that, pulls in ``requests-file`` and
``filelock``, and would make a renewer run's verdicts depend on a download.

A host that is itself a public suffix (``github.io``) or has no registrable
part (``localhost``) is its own site, as is an IP address.
"""

from __future__ import annotations

import functools
from typing import Any

from renewer.core.domains import is_ip_address


@functools.cache
def _list() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()  # the bundled snapshot, private section included


def site_of(host: str) -> str:
    """The registrable domain of *host* (eTLD+1), or *host* itself when it has none."""
    host = host.rstrip(".").lower()
    if not host or is_ip_address(host):
        return host
    return str(_list().privatesuffix(host) or host)


def is_public_suffix(host: str) -> bool:
    """True when *host* is a public suffix (``workers.dev``, ``co.uk``, ``com``)."""
    host = host.rstrip(".").lower()
    if not host or is_ip_address(host):
        return False
    return bool(_list().is_public(host))


def snapshot_date() -> str:
    """The date of the bundled list (``publicsuffixlist``'s version ends with it)."""
    from importlib.metadata import version

    return version("publicsuffixlist").rsplit(".", 1)[-1]
