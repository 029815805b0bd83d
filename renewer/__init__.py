"""renewer: keeps a developer VM's credentials alive.

Importing the package has no side effects and imports nothing heavy; the CLI
and the library entry points import what they need when they need it.
"""

from __future__ import annotations

__version__ = "0.1.0"
