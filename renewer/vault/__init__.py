"""The only package that imports hvac. It returns renewer values, never hvac's.

Three jobs, all at the edge:

* **Explicit settings.** hvac falls back to ``VAULT_ADDR``, ``VAULT_TOKEN``,
  ``~/.vault-token`` and an import-time ``VAULT_CACERT``: the very state this
  program doubts. Every client here gets its address, token, CA bundle and
  timeouts passed in, and the HTTP session ignores the environment.
* **One session per Vault address per run**, shared by every token's client
  (connection reuse; a sweep's worker threads share its pool).
* **Exceptions translated once**: 403 and the 400s that are denials →
  :class:`VaultDenied`; an invalid caller token → :class:`ReauthRequired`;
  connection errors, timeouts, 5xx, 429, redirects and malformed 200s →
  :class:`VaultUnavailable` after bounded retries with full jitter inside the
  run's deadline (``Retry-After`` honoured); any other 4xx →
  :class:`VaultError`, never retried.

Redirects are not followed: hvac would resend ``X-Vault-Token`` to whatever
host a redirect names. A standby's 307 becomes a clear "point vault.addr at
the active node" error.

Answers are read by renewer, not by requests: at most ``MAX_ANSWER_BYTES``
(a declared larger length is refused unread), never decompressed (renewer
asks for ``identity``; a gzip bomb is refused), and never past the run's
deadline (a read timeout bounds each read, not a body that trickles in one
byte at a time).
"""

from renewer.vault.backends import KVv2, PkiIssuer, kv_backend, pki_issuer
from renewer.vault.client import HvacVault, VaultConnection, connect
from renewer.vault.errors import translate
from renewer.vault.transport import MAX_ANSWER_BYTES, RetryPolicy

__all__ = [
    "MAX_ANSWER_BYTES",
    "HvacVault",
    "KVv2",
    "PkiIssuer",
    "RetryPolicy",
    "VaultConnection",
    "connect",
    "kv_backend",
    "pki_issuer",
    "translate",
]
