"""``renewer demo``: the whole story on embedded peers, in a throwaway home.

A periodic Vault token renewed, healed after an OIDC login clobbered it,
refused a heal after a read-only login (DRIFT), recovered with ``renewer
mint``; a service credential refreshed against an OAuth2 server and written
to its sink; a blue/green rotation of the token with a short grace; then
``status``. :mod:`.story` tells it, :mod:`.tokens` holds its opening chapters,
:mod:`.credential` and :mod:`.rotation` its later ones, :mod:`.oauth` is the
OAuth2 server.
"""

from __future__ import annotations

from renewer.demo.story import main

__all__ = ["main"]
