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
    {
        "performance_standby",
        "enterprise",
        "echo_duration_ms",
        "clock_skew_ms",
        "replication_primary_canary_age_ms",
    }
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

SEAL_STATUS_BUILD_KEYS = ("build_date", "commit_date")
"""``sys/seal-status`` dates the build: Vault's ``build_date``, OpenBao's ``commit_date``
(``api/sys_seal.go`` ``SealStatusResponse``)."""

KV_METADATA_OPENBAO_KEYS = frozenset({"current_metadata_version", "metadata_cas_required"})
"""OpenBao's KV v2 versions the metadata itself, with its own check-and-set
(``internal/builtin/logical/kv/path_metadata.go``); Vault has neither key."""

LOGIN_ENTITY = "entity_id"
"""A non-token login creates an identity entity on a real server (``handleLoginRequest``:
``identityStore.CreateOrFetchEntity``); the dev server has no identity store, so its
``entity_id`` is always ``""`` (docs/devserver.md, deviations)."""

POLICY_PARSE_ERROR = "failed to parse policy: "
"""After this prefix each server quotes its own HCL parser (OpenBao: ``At 1:17: key ...``);
the dev server's parser words it its own way."""

ENVELOPE_MOUNT_TYPE = "mount_type"
"""Vault >= 1.13 names the mount's type in every envelope (``HTTPResponse.MountType``);
OpenBao's ``HTTPResponse`` (``sdk/logical/translate_response.go``) has no such key."""

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


PKI_ROLE_FIELDS_NOT_MODELLED = frozenset(
    {
        "allow_globs_in_identity_templates",
        "allow_token_displayname",
        "allowed_domains_template",
        "allowed_ip_sans_cidr",
        "allowed_other_sans",
        "allowed_serial_numbers",
        "allowed_uri_sans",
        "allowed_uri_sans_template",
        "allowed_user_ids",
        "basic_constraints_valid_for_non_ca",
        "cn_validations",
        "code_signing_flag",
        "country",
        "email_protection_flag",
        "ext_key_usage_oids",
        "locality",
        "not_after",
        "not_after_bound",
        "not_before",
        "not_before_bound",
        "organization",
        "ou",
        "policy_identifiers",
        "postal_code",
        "province",
        "signature_bits",
        "street_address",
        "use_csr_common_name",
        "use_csr_sans",
        "use_pss",
    }
)
"""A PKI role as OpenBao writes and reads it (``internal/builtin/logical/pki/path_roles.go``)
has these fields too; the dev server models the ones a renewal uses and leaves these out
(docs/devserver.md, deviations: PKI)."""

PKI_ISSUE_OPENBAO_KEYS = frozenset({"not_before"})
"""OpenBao's issue answer carries ``not_before`` (unix seconds) beside ``expiration``
(``internal/builtin/logical/pki/path_issue_sign.go``)."""

# --- the differential tests' transcripts --------------------------------------------

_KEY = r"(?:^step \d+: |\.)"  # a key at the top of an answer, or nested


def _only(side: str, keys: frozenset[str] | tuple[str, ...], why: str) -> list[tuple[str, str]]:
    return [(rf"{_KEY}{key}: only {side} sends it", why) for key in sorted(keys)]


ALLOWED_IN_TRANSCRIPTS: tuple[tuple[str, str], ...] = (
    (rf"^step \d+: {ENVELOPE_MOUNT_TYPE}: only the dev server sends it", "ENVELOPE_MOUNT_TYPE"),
    *_only("the dev server", HEALTH_KEYS_VAULT_ONLY, "HEALTH_KEYS_VAULT_ONLY"),
    *_only("OpenBao", HEALTH_KEYS_OPENBAO_ONLY, "HEALTH_KEYS_OPENBAO_ONLY"),
    *_only("OpenBao", POLICY_READ_EXTRA_KEYS, "POLICY_READ_EXTRA_KEYS"),
    *_only("the dev server", SEAL_STATUS_BUILD_KEYS[:1], "SEAL_STATUS_BUILD_KEYS"),
    *_only("OpenBao", SEAL_STATUS_BUILD_KEYS[1:], "SEAL_STATUS_BUILD_KEYS"),
    *_only("OpenBao", KV_METADATA_OPENBAO_KEYS, "KV_METADATA_OPENBAO_KEYS"),
    *_only("OpenBao", PKI_ROLE_FIELDS_NOT_MODELLED, "PKI_ROLE_FIELDS_NOT_MODELLED"),
    *_only("OpenBao", PKI_ISSUE_OPENBAO_KEYS, "PKI_ISSUE_OPENBAO_KEYS"),
    (rf"{_KEY}{LOGIN_ENTITY}: dev server '' != OpenBao '<entity_id:str>'", "LOGIN_ENTITY"),
    (
        r"errors\[0\]: dev server '2 errors occurred:\\n\\t\* permission denied\\n\\t\* invalid "
        r"token\\n\\n' != OpenBao 'permission denied'",
        "INVALID_TOKEN_VARIANTS",
    ),
    (
        r"errors\[0\]: dev server 'error parsing JSON' != OpenBao 'failed to decode JSON input",
        "JSON_DECODE_ERROR_PREFIXES",
    ),
    (
        rf"errors\[0\]: dev server [\"']{POLICY_PARSE_ERROR}.*[\"'] != "
        rf"OpenBao [\"']{POLICY_PARSE_ERROR}",
        "POLICY_PARSE_ERROR",
    ),
    (
        r"errors\[0\]: dev server 'IP Subject Alternative Names are not allowed in this role, "
        r"but was provided \[.*\]' != OpenBao 'IP Subject Alternative Names are not allowed in "
        r"this role, but was provided via the API'",
        "ip_sans_refusals",
    ),
)
"""Differences the transcripts may show: (regular expression over a difference, the name
above that explains it)."""
