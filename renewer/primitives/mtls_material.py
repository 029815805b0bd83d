"""The ``mtls`` certificate set: read, and chosen between the stored and the issued one.

Its own room: parsing a certificate and key into :class:`CertMaterial` (with
the facts :func:`renewer.core.certs.check_certificate` judges) is needed by
every step of the primitive, deciding, renewing, using and testing, and
touches neither the network nor Vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from renewer.core import certs
from renewer.core.certs import CertFacts, check_certificate
from renewer.core.secret import Secret
from renewer.primitives.base import CredentialState, register_secret
from renewer.primitives.pem import blocks, cert_facts, chain_of, key_public


@dataclass(frozen=True, slots=True)
class CertMaterial:
    """One certificate, its chain and its key, with what could be read from them."""

    source: str  # "pki" (issued by renewer) or "secret" (stored by a person)
    certificate: str  # the leaf, PEM
    chain: str  # the issuer chain, PEM, may be empty
    private_key: Secret = field(repr=False)
    facts: CertFacts | None = None
    key_public: bytes | None = None
    problem: str = ""  # why the certificate or the key could not be read

    @property
    def bundle(self) -> str:
        """Certificate, chain and key in one PEM text (the ``pem_bundle`` sink)."""
        return self.certificate + self.chain + with_newline(self.private_key.reveal())


def with_newline(text: str) -> str:
    """PEM blocks joined end to end need a newline between them."""
    return text if text.endswith("\n") else text + "\n"


def read_material(source: str, cert_text: str, key_text: str, chain: str) -> CertMaterial:
    """Parse one certificate set; what cannot be read is a ``problem``, never an exception."""
    register_secret(key_text)
    leaf = (blocks(cert_text) or [cert_text])[0]
    material = CertMaterial(
        source=source,
        certificate=with_newline(leaf),
        chain=chain,
        private_key=Secret(key_text),
    )
    try:
        facts = cert_facts(cert_text)
    except ValueError as exc:
        return replace(material, problem=f"client_cert: {exc}")
    try:
        public = key_public(key_text)
    except ValueError as exc:
        return replace(material, facts=facts, problem=f"client_key: {exc}")
    return replace(material, facts=facts, key_public=public)


def material(state: CredentialState) -> CertMaterial | None:
    """The certificate set to use: the newer of the issued one and the stored one."""
    found: list[CertMaterial] = []
    extra = state.runtime.extra
    if extra.get("client_cert") and extra.get("client_key"):
        found.append(
            read_material(
                "pki", extra["client_cert"], extra["client_key"], extra.get("ca_chain", "")
            )
        )
    cert, key = state.secret.get("client_cert"), state.secret.get("client_key")
    if cert and key:
        text = cert.reveal()
        found.append(read_material("secret", text, key.reveal(), chain_of(text)))
    if not found:
        return None
    readable = [item for item in found if item.facts is not None and not item.problem]
    if not readable:
        return found[0]
    return max(readable, key=lambda item: item.facts.not_after if item.facts else 0.0)


def decide_certificate(
    state: CredentialState, *, now: float, draw: float, fraction: float
) -> tuple[certs.CertDecision, CertMaterial | None]:
    """The certificate to use and what to do about it; an unreadable one is a mismatch."""
    found = material(state)
    if found is not None and found.problem:
        return certs.CertDecision(certs.MISMATCH, found.problem), found
    decision = check_certificate(
        found.facts if found else None,
        key_public=found.key_public if found else None,
        now=now,
        fraction=fraction,
        draw=draw,
    )
    return decision, found
