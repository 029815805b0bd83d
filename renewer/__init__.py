"""renewer: keeps a developer VM's credentials alive.

Importing the package has no side effects and imports nothing heavy; the CLI
and the library entry points import what they need when they need it.
``renewer.bind`` is resolved on first access (module ``__getattr__``), so
``import renewer`` stays light. It lives in ``renewer.binding``: a submodule
called ``bind`` would replace the function on the package once imported.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Not `from typing import TYPE_CHECKING`: typing costs ~3 ms, and every
# `vault`/`bao` command pays the package import through the token helper's get.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from renewer.binding import bind

__all__ = ["__version__", "bind"]


def __getattr__(name: str) -> Any:
    if name == "bind":
        from renewer.binding import bind

        return bind
    raise AttributeError(f"module 'renewer' has no attribute {name!r}")
