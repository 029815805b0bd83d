"""How hard the reliability suite tries: small by default (CI), big with ``RENEWER_LONG_TESTS=1``.

The default run must stay within about a minute on a loaded 2-core machine;
the long run (``tests/reliability/run.sh --long``) turns the random-kill
loops into hundreds of kills and the fuzzers into thousands of examples.
"""

from __future__ import annotations

import os

VARIABLE = "RENEWER_LONG_TESTS"
LONG = os.environ.get(VARIABLE) == "1"
MODE = "long" if LONG else "short"


def scaled(short: int, long: int) -> int:
    """*short* in the default run, *long* with ``RENEWER_LONG_TESTS=1``."""
    return long if LONG else short
