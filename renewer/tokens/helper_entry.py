"""The program the vault/bao CLI runs as its token helper: ``get`` fast, the rest via renewer.

Both CLIs run ``$SHELL -c "<token_helper> get"`` before **every** command
(``vault kv get``, ``bao token lookup``…) whenever ``VAULT_TOKEN`` is unset:
``get`` is on the user's hot path. So this module imports only ``os``, ``errno``
and ``stat`` (loaded with the interpreter anyway) and reads one file whose path
``renewer token-helper install`` wrote into the helper script: no config
parsing, no click, no hvac. ``store`` and ``erase`` are rare (a login, a
script's logout) and run the whole program (``renewer token-helper store``).

The protocol, as the CLIs implement it (``command/token/helper_external.go``
in hashicorp/vault and openbao/openbao): the operation is the last argument;
``get`` prints the token on stdout and nothing else (the CLI uses stdout
verbatim as the token, so no newline); a missing file means "no token" (exit
0, empty output, as the CLIs' internal helper does); a non-zero exit makes
the CLI fail with our stderr in its message.
"""

from __future__ import annotations

import errno
import os
import stat

MAX_TOKEN_BYTES = 4096  # as renewer.tokens.tokenfile: a token file is one short line
_BOM = b"\xef\xbb\xbf"
_PREFIX = "renewer token helper: "


def read_token_bytes(token_file: str) -> tuple[bytes, str]:
    """(the token, "") or (b"", why it cannot be used); (b"", "") when there is no file."""
    try:
        fd = os.open(token_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return b"", ""
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            return b"", f"{token_file} is a symbolic link; renewer only reads the file itself"
        return b"", f"cannot read {token_file}: {exc.strerror}"
    try:
        facts = os.fstat(fd)
        if not stat.S_ISREG(facts.st_mode):
            return b"", f"{token_file} is not a regular file"
        if facts.st_uid != os.geteuid():
            return b"", f"{token_file} is owned by uid {facts.st_uid}, not by you; not using it"
        content = os.read(fd, MAX_TOKEN_BYTES + 1)
    finally:
        os.close(fd)
    if len(content) > MAX_TOKEN_BYTES:
        return b"", f"{token_file} is larger than {MAX_TOKEN_BYTES} bytes; not a token"
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    token = content.strip()
    if len(token.split()) > 1:
        return b"", f"{token_file} holds several words or lines, not one token"
    return token, ""


def get(token_file: str) -> int:
    """Print the token in *token_file*; exit 0 with no output when there is none."""
    token, problem = read_token_bytes(token_file)
    if problem:
        os.write(2, f"{_PREFIX}{problem}\n".encode())
        return 1
    os.write(1, token)
    return 0


def main(argv: list[str], *, sink: str, token_file: str, config: str) -> int:
    """The helper script's entry: ``<helper> get|store|erase``."""
    operation = argv[-1] if argv else ""
    if operation == "get":
        return get(token_file)
    if operation not in {"store", "erase"}:
        os.write(2, f"{_PREFIX}unknown operation {operation!r}: get, store or erase\n".encode())
        return 2
    from renewer.cli import run_cli

    options = ["--config", config] if config else []
    # store gets the file too: where the token goes if renewer cannot use its config
    target = ["--token-file", token_file] if operation == "store" else []
    return run_cli([*options, "token-helper", operation, "--sink", sink, *target])
