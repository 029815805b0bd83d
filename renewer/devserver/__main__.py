"""``python -m renewer.devserver --listen 127.0.0.1:8200 --root-token root [--dev-controls]``."""

from __future__ import annotations

import argparse
import sys

from renewer.devserver.serve import ListenError, serve


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the dev server in the foreground."""
    parser = argparse.ArgumentParser(
        prog="python -m renewer.devserver",
        description="In-memory Vault-API-compatible development and test server.",
    )
    parser.add_argument("--listen", default="127.0.0.1:8200", help="HOST:PORT (loopback)")
    parser.add_argument("--root-token", default="root", help="the root token's id")
    parser.add_argument("--dev-controls", action="store_true", help="enable the /_dev/ API")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --listen address"
    )
    args = parser.parse_args(argv)
    try:
        return serve(
            args.listen,
            args.root_token,
            dev_controls=args.dev_controls,
            out=sys.stdout,
            allow_remote=args.allow_remote,
        )
    except ListenError as exc:
        parser.error(str(exc))
    except OSError as exc:
        print(f"error: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
