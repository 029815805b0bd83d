"""The one way commands print: made printable first.

Command output mixes renewer's own words with text from outside: a Vault
error, a service's reason phrase, a recipe's description, a state file.
Every line goes through :func:`say`, which escapes whatever a terminal would
obey (:mod:`renewer.core.printable`), keeping line breaks. A test
(tests/hostile/test_printable_output.py) checks that no command module calls
``click.echo`` or ``print`` itself.

Masking registered secrets is not done here but at the edge: the CLI wraps
stdout and stderr in :class:`renewer.redact.ScrubbingText` for the whole
command, so whatever is printed is masked. Only secret fields are registered
(an authorize URL shows the OAuth ``client_id``, a ``secret: false`` field);
a command whose answer is the secret (a token helper's ``get``) prints it
with :func:`renewer.redact.print_secret`.
"""

from __future__ import annotations

import sys

import click

from renewer.core.printable import printable


def say(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print *text* and a newline (unless *nl* is false) to stdout or stderr, made printable.

    Printable text is written unchanged: a token printed for ``$(...)`` stays exact.
    """
    click.echo(printable(text, keep_newlines=True), err=err, nl=nl)


def show_body(content: bytes) -> None:
    """A service's response body on stdout: as sent to a pipe, made printable for a terminal.

    Piped to ``jq`` or a file, the bytes must be exact. On a terminal they
    would be obeyed, so they are decoded (invalid UTF-8 replaced) and shown
    with :func:`printable`, like curl refuses binary output to a terminal.
    """
    stream = sys.stdout
    if stream.isatty():
        text = content.decode("utf-8", "replace")
        stream.write(printable(text, keep_newlines=True))
    else:
        stream.buffer.write(content)
    stream.flush()
