"""``mtls``: a client certificate and key, watched, tested by a handshake, renewed from PKI.

Seed 004 §3.4, issue 6. The certificate and key come from one of two
places, and the newer one (later ``not_after``) is used:

* the stored secret (``client_cert``, ``client_key``, set by a person with
  ``renewer creds set``; ``client_cert`` may carry its chain after it);
* the runtime state, when the credential has ``pki:`` and renewer issued
  them from Vault PKI (``<mount>/issue/<role>`` with the token of the
  configured token sink, renewed earlier in the same run).

``needs_refresh`` is the pure :func:`renewer.core.certs.check_certificate`
on facts parsed here: renew when the refresh window opens (a third of the
lifetime left, at the latest, with the default ``refresh_at``), or when
the certificate is missing, expired, not yet valid or does not belong to
its key. Without ``pki:`` a person must act: an unusable certificate needs
``renewer creds set NAME``; one in its renewal window is still used, and
the run reports a warning (``credential.expiring``) until it is replaced.

A reissue returns the new key and certificate as one runtime state: the
caller stores that record (one atomic write) before any sink sees it, and
``pem_bundle`` / ``cert_dir`` sinks write the set as one unit, so a crash
never leaves a new certificate beside an old key.

``test`` is a TLS handshake with the client certificate, then the recipe's
HTTP ``test``, if any, over the same kind of connection
(:mod:`renewer.primitives.mtls_handshake` says how the handshake judges).
The certificate set itself is read in :mod:`renewer.primitives.mtls_material`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
import requests.adapters

from renewer import crashpoints
from renewer.bounded_http import SERVICE_ANSWER_BYTES, service_refused
from renewer.core import certs
from renewer.core.certs import check_certificate
from renewer.errors import CredentialError, VaultDenied, VaultError
from renewer.primitives.base import (
    Action,
    CredentialState,
    Plan,
    Primitive,
    RuntimeState,
    TestResult,
    register_secret,
)
from renewer.primitives.mtls_handshake import (
    CheckingAdapter,
    ClientCertAdapter,
    client_context,
    handshake,
)
from renewer.primitives.mtls_material import (
    decide_certificate,
    material,
    read_material,
    with_newline,
)
from renewer.primitives.pem import blocks, chain_of
from renewer.recipes.model import Recipe
from renewer.template import Values

if TYPE_CHECKING:
    from renewer.credentials.spec import PkiSettings
    from renewer.primitives import IssuerFactory
    from renewer.primitives.http import Http


class Mtls(Primitive):
    """A client certificate: expiry watched, handshake tested, reissued from Vault PKI."""

    name = "mtls"
    reauth_words = "to store a valid certificate and key"

    def __init__(
        self, *, pki: PkiSettings | None = None, issuer: IssuerFactory | None = None
    ) -> None:
        self.pki = pki
        self._issuer = issuer

    # --- deciding ----------------------------------------------------------------

    def needs_refresh(
        self, state: CredentialState, *, now: float, draw: float, fraction: float
    ) -> Plan:
        decision, _ = decide_certificate(state, now=now, draw=draw, fraction=fraction)
        if decision.state == certs.FRESH:
            return Plan(Action.KEEP, decision.reason, decision.due_at)
        if self.pki is not None:
            return Plan(Action.REFRESH, decision.reason, decision.due_at)
        if decision.state == certs.DUE:
            return Plan(
                Action.KEEP,
                decision.reason,
                decision.due_at,
                warning=f"{decision.reason}; no pki: is configured to renew it",
            )
        return Plan(Action.REAUTH, decision.reason)

    def expires_at(self, state: CredentialState) -> float | None:
        found = material(state)
        return found.facts.not_after if found is not None and found.facts else None

    def refreshes_after_expiry(self, state: CredentialState) -> bool:
        """With ``pki:`` a new certificate is issued with the Vault token, not the old one."""
        return self.pki is not None

    # --- renewing ------------------------------------------------------------------

    def refresh(self, state: CredentialState, *, http: Http) -> RuntimeState:
        if self.pki is None:
            raise CredentialError(
                f"{state.name}: the certificate cannot be renewed automatically (no pki:)",
                hint=self.reauth_command(state.name, state.recipe),
            )
        issued = self._issue(state, self.pki)
        crashpoints.reached("mtls.issued")
        register_secret(issued.private_key.reveal())
        found = read_material("pki", issued.certificate, issued.private_key.reveal(), "")
        if found.problem or found.facts is None or found.key_public != found.facts.public_key:
            raise CredentialError(
                f"{state.name}: Vault PKI answered a key and certificate that do not belong "
                "together; nothing was stored",
                hint="report this to whoever runs the PKI mount; the old certificate is kept",
            )
        chain = "".join(with_newline(pem) for pem in issued.ca_chain)
        return RuntimeState(
            token_type="x509",  # noqa: S106 - a label, not a secret
            issued_at=found.facts.not_before,
            expires_at=found.facts.not_after,
            extra={
                "client_cert": found.certificate,
                "client_key": with_newline(issued.private_key.reveal()),
                "ca_chain": chain,
                "serial": issued.serial_number,
            },
        )

    def _issue(self, state: CredentialState, pki: PkiSettings) -> certs.IssuedCertificate:
        if self._issuer is None:
            raise CredentialError(f"{state.name}: no way to reach Vault PKI in this context")
        where = f"{pki.mount}/issue/{pki.role}"
        try:
            return self._issuer(pki).issue(
                pki.role,
                common_name=pki.common_name,
                ttl=pki.ttl,
                alt_names=pki.alt_names,
                ip_sans=pki.ip_sans,
            )
        except VaultDenied as error:
            raise CredentialError(
                f"{state.name}: Vault refused to issue a certificate from {where} "
                f"({error.message})",
                hint=f"the policy of token sink {pki.token!r} needs update on {where}",
            ) from None
        except VaultError as error:
            if error.status is None or error.status >= 500:
                raise
            raise CredentialError(
                f"{state.name}: Vault PKI refused the request ({error.message})",
                hint=f"check pki.common_name, alt_names, ip_sans and ttl against the role: "
                f"vault read {pki.mount}/roles/{pki.role}",
            ) from None

    # --- using -----------------------------------------------------------------------

    def values(self, state: CredentialState) -> Values:
        values = state.values()
        runtime = {
            key: value
            for key, value in values["runtime"].items()
            if key not in {"client_cert", "client_key", "ca_chain", "serial"}
        }
        found = material(state)
        if found is not None:
            runtime.update(
                client_cert=found.certificate,
                client_key=found.private_key.reveal(),
                ca_chain=found.chain,
                pem_bundle=found.bundle,
            )
            if found.facts is not None:
                runtime.update(
                    serial=found.facts.serial, expires_at=str(int(found.facts.not_after))
                )
        ca_cert = state.secret.get("ca_cert")
        runtime["ca_cert"] = ca_cert.reveal() if ca_cert else ""
        return {**values, "runtime": runtime}

    def adapter(self, state: CredentialState) -> requests.adapters.HTTPAdapter | None:
        found = material(state)
        if found is None or found.problem:
            return None
        return ClientCertAdapter(client_context(found, _ca(state)))

    def has_test(self, recipe: Recipe) -> bool:
        return True

    def test(self, state: CredentialState, *, http: Http) -> TestResult:
        found = material(state)
        if found is None or found.problem:
            reason = found.problem if found else "no client certificate is stored"
            return TestResult(passed=False, problems=(reason,))
        context = client_context(found, _ca(state))
        problems = handshake(state, context, http=http)
        if problems or state.recipe.test is None:
            return TestResult(passed=not problems, problems=problems)
        from renewer.primitives.checks import run_recipe_test

        session = requests.Session()
        session.trust_env = False  # direct, like the handshake above; no netrc (issue 20)
        session.headers["Accept-Encoding"] = "identity"
        adapter = CheckingAdapter(context, max_bytes=SERVICE_ANSWER_BYTES, refuse=service_refused)
        session.mount(_origin(state.recipe.base_url), adapter)
        try:
            return run_recipe_test(self, state, http=replace(http, session=session))
        finally:
            session.close()

    def secret_warnings(
        self, name: str, recipe: Recipe, values: Mapping[str, str], *, now: float
    ) -> tuple[str, ...]:
        """A certificate stored although it is expired or not yet valid: say so at once."""
        cert, key = values.get("client_cert"), values.get("client_key")
        if not cert or not key:
            return ()
        found = read_material("secret", cert, key, chain_of(cert))
        if found.facts is None:
            return ()
        decision = check_certificate(found.facts, key_public=found.key_public, now=now)
        if decision.state not in {certs.EXPIRED, certs.NOT_YET_VALID}:
            return ()
        usable = "" if self.pki is None else "; pki: will issue a new one on the next run"
        return (f"{name}: client_cert: {decision.reason}: the service will refuse it{usable}",)

    def check_secret(self, name: str, recipe: Recipe, values: Mapping[str, str]) -> None:
        """A certificate and key that belong together; a CA that parses."""
        cert, key = values.get("client_cert"), values.get("client_key")
        if bool(cert) != bool(key):
            raise CredentialError(
                f"{name}: client_cert and client_key go together; nothing was stored",
                hint=f"renewer creds set {name} --stdin  (a JSON object with both)",
            )
        if cert and key:
            found = read_material("secret", cert, key, chain_of(cert))
            problem = found.problem or (
                ""
                if found.facts and found.key_public == found.facts.public_key
                else "client_key: it does not belong to client_cert"
            )
            if problem:
                raise CredentialError(
                    f"{name}: {problem}; nothing was stored", hint=f"renewer creds set {name}"
                )
        ca = values.get("ca_cert")
        if ca and not blocks(ca):
            raise CredentialError(
                f"{name}: ca_cert: no PEM certificate in it; nothing was stored",
                hint=f"renewer creds set {name}",
            )

    def default_sink_value(self, recipe: Recipe) -> str:
        return "{{runtime.pem_bundle}}"

    def reauth_command(self, name: str, recipe: Recipe) -> str:
        return f"renewer creds set {name}"


def _ca(state: CredentialState) -> str | None:
    value = state.secret.get("ca_cert")
    return value.reveal() if value else None


def _origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"
