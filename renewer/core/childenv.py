"""The environment a program renewer starts inherits: ours, without credentials.

renewer starts other programs: rotation ``check`` and ``hook`` commands,
credential hooks, ``notify-send``, ``systemctl --user``. Its own environment
may hold a Vault token (``renewer mint`` reads ``$VAULT_TOKEN``), and a
person's shell often holds others; none of that is the child's business, and
an environment leaks further (to the child's children, to ``/proc/PID/environ``
readers of the same user, to crash reports). Issue 20, item 7.

Rules, each pinned by a test (tests/unit/test_childenv.py):

1. A variable whose name says it holds a credential is dropped: the name,
   upper-cased, contains ``TOKEN``, ``SECRET``, ``PASSWORD``, ``PASSWD``,
   ``PASSPHRASE``, ``CREDENTIAL`` or ``COOKIE``, or ends in ``_KEY`` or
   ``APIKEY`` (``VAULT_TOKEN``, ``BAO_TOKEN``, ``AWS_SECRET_ACCESS_KEY``,
   ``GITHUB_TOKEN``, ``OPENAI_API_KEY``…).
2. Except a name that ends in ``_FILE``, ``_PATH``, ``_DIR`` or ``_SOCK``: it
   names a place, not a value (``AWS_SHARED_CREDENTIALS_FILE``,
   ``GOOGLE_APPLICATION_CREDENTIALS_PATH``), and the child may need it.
3. A variable whose value holds a secret renewer knows (the caller's
   *holds_secret*: the redaction registry, Vault-token shapes) is dropped,
   whatever its name.
4. Everything else is kept as it is (``PATH``, ``HOME``, ``XDG_RUNTIME_DIR``,
   ``DBUS_SESSION_BUS_ADDRESS``, ``DISPLAY``: what children need to work).
5. *extra* (names and paths renewer hands the child) is added last and is
   not filtered: the caller decides what it gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "COOKIE")
_SECRET_ENDINGS = ("_KEY", "APIKEY")
_PLACE_ENDINGS = ("_FILE", "_PATH", "_DIR", "_SOCK")


def names_a_credential(name: str) -> bool:
    """True when *name* says its value is a credential (rules 1 and 2)."""
    upper = name.upper()
    if upper.endswith(_PLACE_ENDINGS):
        return False
    return any(word in upper for word in _SECRET_WORDS) or upper.endswith(_SECRET_ENDINGS)


def child_environment(
    base: Mapping[str, str],
    *,
    holds_secret: Callable[[str], bool] = lambda _: False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """*base* without credentials, plus *extra*: the environment of a child process."""
    env = {
        name: value
        for name, value in base.items()
        if not names_a_credential(name) and not holds_secret(value)
    }
    env.update(extra or {})
    return env
