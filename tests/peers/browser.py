"""A stand-in browser for `renewer auth login --open`: fetch the URL, follow the redirects.

Used through $BROWSER (Python's webbrowser runs it with the URL as its argument),
so the CLI test drives the whole flow in a real subprocess.
"""

from __future__ import annotations

import sys

import requests


def main() -> int:
    answer = requests.get(sys.argv[1], timeout=10)
    return 0 if answer.ok else 1


if __name__ == "__main__":
    sys.exit(main())
