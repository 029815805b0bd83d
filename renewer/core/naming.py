"""How Vault names tokens: the display name it reports for the one we ask for.

Pure. Vault's token store (``handleCreateCommon``) prefixes ``token-``, turns
every character outside ``[a-zA-Z0-9-]`` into ``-`` and removes one trailing
``-``; it does not change case. An empty name becomes ``token``. The drift
guard compares against what Vault reports, so config checks use this to catch
an ``expect.display_name`` that no minted token could ever match.
"""

from __future__ import annotations

import re

_OUTSIDE = re.compile(r"[^a-zA-Z0-9-]")


def vault_display_name(requested: str) -> str:
    """The display name Vault reports for a token created with *requested*."""
    if not requested:
        return "token"
    name = _OUTSIDE.sub("-", "token-" + requested)
    return name[:-1] if name.endswith("-") else name
