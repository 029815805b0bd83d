"""The one way renewer builds a child's environment (see renewer.core.childenv for the rules).

Every ``subprocess`` call in renewer passes ``env=child_env(...)``; a test
(tests/hostile/test_child_environment.py) checks that each call site does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from renewer.core.childenv import child_environment
from renewer.redact import holds_secret


def child_env(
    extra: Mapping[str, str] | None = None, *, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Our environment (or *base*) without credentials or known secret values, plus *extra*."""
    return child_environment(
        os.environ if base is None else base, holds_secret=holds_secret, extra=extra
    )
