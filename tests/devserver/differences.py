"""Every way a real server may answer differently from the dev server, and why that is allowed.

The dev server follows HashiCorp Vault (the texts and shapes of 1.17+) where
OpenBao, the real server the suite runs against, says it otherwise. The
conformance tests accept exactly these differences, through the names below,
and nothing else: each one is a fact about a real server, with its source.
``test_differential.py`` sends the same requests to both servers and checks
that they differ only here.

Sources: ``openbao/openbao`` at the 2.7 line (paths below), answers seen from
OpenBao 2.7.2 (``bao server -dev``), and ``shared/reference/vault-token-semantics.md``
for Vault's side.
"""

from __future__ import annotations

from renewer.devserver.protocol import multierror

# --- tokens ------------------------------------------------------------------------

SERVICE_TOKEN_PREFIXES = ("hvs.", "s.")
"""Vault >= 1.10 issues ``hvs.`` ids; OpenBao, without server-side consistent tokens,
the legacy ``s.`` (``internal/vault/token_store.go``, token creation:
``fmt.Sprintf("s.%s", ...)`` when ``DisableSSCTokens``; ``sdk/helper/consts/token_consts.go``)."""

BATCH_TOKEN_PREFIXES = ("hvb.", "b.")
"""The same split for batch tokens (``BatchTokenPrefix`` / ``LegacyBatchTokenPrefix``)."""

INVALID_TOKEN = multierror("permission denied", "invalid token")
"""Vault >= 1.17's answer to an unknown, expired or revoked caller token (the dev server's)."""

INVALID_TOKEN_VARIANTS = (INVALID_TOKEN, "permission denied")
"""OpenBao and Vault < 1.17 answer the bare error of ``CheckToken`` (hashicorp/vault#25953;
OpenBao ``internal/vault/request_handling.go``); renewer reads both (``core/forbidden.py``)."""

# --- sys/ --------------------------------------------------------------------------

HEALTH_KEYS_COMMON = frozenset(
    {
        "initialized",
        "sealed",
        "standby",
        "replication_performance_mode",
        "replication_dr_mode",
        "server_time_utc",
        "version",
    }
)
"""``sys/health`` keys both send. Vault CE adds ``performance_standby``, ``enterprise``,
``echo_duration_ms``, ``clock_skew_ms``; OpenBao's ``HealthResponse``
(``internal/http/sys_health.go``) has none of those and adds ``cluster_name`` and
``cluster_id`` when unsealed."""

HEALTH_KEYS_VAULT_ONLY = frozenset(
    {"performance_standby", "enterprise", "echo_duration_ms", "clock_skew_ms"}
)
HEALTH_KEYS_OPENBAO_ONLY = frozenset({"cluster_name", "cluster_id"})

POLICY_READ_EXTRA_KEYS = frozenset(
    {
        "version",
        "cas_required",
        "modified",
        "allow_slashes_in_identity_templates",
        "allow_wildcards_in_identity_templates",
    }
)
"""OpenBao's ACL policy read carries policy versioning (check-and-set) and templating
switches beside ``name`` and ``policy`` (``internal/vault/logical_system.go``
``handlePoliciesRead``); Vault answers ``name`` and ``policy``/``rules`` only."""

RATE_LIMIT_HEADERS_ON_BLOCK = frozenset({"Retry-After"})
"""Once a real quota blocks (``block_interval``), OpenBao sends ``Retry-After`` (the
block's remaining seconds) and no ``X-Ratelimit-*``; the dev server's rate-limit mode
sends all four with the configured value (``/_dev/ratelimit``)."""

# --- request parsing ---------------------------------------------------------------

JSON_DECODE_ERROR_PREFIXES = ("error parsing JSON", "failed to decode JSON input")
"""Vault: ``error parsing JSON``; OpenBao: ``failed to decode JSON input: <Go error>``
(``internal/http/json.go``)."""

# --- PKI ---------------------------------------------------------------------------


def ip_sans_refusals(ips: str) -> tuple[str, ...]:
    """The two texts of an IP SAN a role refuses: Vault lists the IPs, OpenBao names the
    source (``internal/builtin/logical/pki/cert_util.go``: ``but was provided via %v``)."""
    return (
        f"IP Subject Alternative Names are not allowed in this role, but was provided [{ips}]",
        "IP Subject Alternative Names are not allowed in this role, but was provided via the API",
    )
