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

``test`` is a real TLS handshake with the client certificate against the
``base_url``'s host and port, then one ``GET /`` whose first byte is read,
because under TLS 1.3 a server refuses a client certificate only after the
handshake. A ``GET``: servers such as ``openssl s_server -www`` never answer
a ``HEAD``. An answer, whatever its status, means the certificate was
accepted; so does silence until the timeout (nothing refused it). Then the
recipe's HTTP ``test``, if any, over the same kind of connection. The
server is verified against the secret's ``ca_cert`` when set (and only
against it), else the system's trust store.

The private key is handed to OpenSSL through an anonymous memory file
(``memfd``): it is never written to disk outside the store and the sinks.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import requests.adapters

from renewer import crashpoints
from renewer.bounded_http import SERVICE_ANSWER_BYTES, BoundedAnswers, service_refused
from renewer.core import certs
from renewer.core.certs import CertFacts, check_certificate
from renewer.core.secret import Secret
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
from renewer.primitives.http import TransientFailure
from renewer.primitives.pem import blocks, cert_facts, chain_of, key_public
from renewer.recipes.model import Recipe
from renewer.template import Values

if TYPE_CHECKING:
    from renewer.credentials.spec import PkiSettings
    from renewer.primitives import IssuerFactory
    from renewer.primitives.http import Http

_READ_BYTES = 1


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
        return self.certificate + self.chain + _with_newline(self.private_key.reveal())


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _read(source: str, cert_text: str, key_text: str, chain: str) -> CertMaterial:
    register_secret(key_text)
    leaf = (blocks(cert_text) or [cert_text])[0]
    material = CertMaterial(
        source=source,
        certificate=_with_newline(leaf),
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
            _read("pki", extra["client_cert"], extra["client_key"], extra.get("ca_chain", ""))
        )
    cert, key = state.secret.get("client_cert"), state.secret.get("client_key")
    if cert and key:
        text = cert.reveal()
        found.append(_read("secret", text, key.reveal(), chain_of(text)))
    if not found:
        return None
    readable = [item for item in found if item.facts is not None and not item.problem]
    if not readable:
        return found[0]
    return max(readable, key=lambda item: item.facts.not_after if item.facts else 0.0)


def _decide(
    state: CredentialState, *, now: float, draw: float, fraction: float
) -> tuple[certs.CertDecision, CertMaterial | None]:
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
        decision, _ = _decide(state, now=now, draw=draw, fraction=fraction)
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
        found = _read("pki", issued.certificate, issued.private_key.reveal(), "")
        if found.problem or found.facts is None or found.key_public != found.facts.public_key:
            raise CredentialError(
                f"{state.name}: Vault PKI answered a key and certificate that do not belong "
                "together; nothing was stored",
                hint="report this to whoever runs the PKI mount; the old certificate is kept",
            )
        chain = "".join(_with_newline(pem) for pem in issued.ca_chain)
        return RuntimeState(
            token_type="x509",  # noqa: S106 - a label, not a secret
            issued_at=found.facts.not_before,
            expires_at=found.facts.not_after,
            extra={
                "client_cert": found.certificate,
                "client_key": _with_newline(issued.private_key.reveal()),
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
        adapter = _CheckingAdapter(context, max_bytes=SERVICE_ANSWER_BYTES, refuse=service_refused)
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
        found = _read("secret", cert, key, chain_of(cert))
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
            found = _read("secret", cert, key, chain_of(cert))
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


# --- TLS ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _memory_file(data: str) -> Iterator[str]:
    """A path OpenSSL can read *data* from, backed by memory (memfd) when the OS has it."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("renewer-pem", os.MFD_CLOEXEC)
        try:
            os.write(fd, data.encode())
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="renewer-") as directory:  # 0700
        path = os.path.join(directory, "pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(data)
        yield path


def client_context(found: CertMaterial, ca_pem: str | None) -> ssl.SSLContext:
    """A client context presenting *found*; trusting only *ca_pem* when given."""
    if ca_pem:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=ca_pem)
    else:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with (
        _memory_file(found.certificate + found.chain) as cert_path,
        _memory_file(found.private_key.reveal()) as key_path,
    ):
        context.load_cert_chain(cert_path, key_path)
    return context


class ClientCertAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose TLS is exactly *context* (client certificate, trust)."""

    def __init__(self, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """The context decides what is trusted; requests must not add its CA bundle."""
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class _CheckingAdapter(ClientCertAdapter, BoundedAnswers):
    """The client-certificate adapter of renewer's own test: answers read capped.

    (``bind`` keeps the plain one: what an application reads is its business.)
    """


def handshake(state: CredentialState, context: ssl.SSLContext, *, http: Http) -> tuple[str, ...]:
    """Problems of a TLS handshake (and a first read) with the client certificate; () if none.

    Only a failed TCP connect is temporary (retried, then exit 75); everything
    that happens once TLS has started is an answer about the certificates.
    """
    parts = urlsplit(state.recipe.base_url)
    if parts.scheme != "https" or not parts.hostname:
        return (f"base_url {state.recipe.base_url} is not https: there is no TLS to test",)
    host, port = parts.hostname, parts.port or 443
    request = f"GET / HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"

    def once() -> tuple[str, ...]:
        try:
            raw = socket.create_connection((host, port), timeout=http.policy.timeout)
        except OSError as exc:
            raise TransientFailure(f"could not connect to {host}:{port}") from exc
        with raw:
            try:
                return probe(context.wrap_socket(raw, server_hostname=host))
            except TimeoutError:
                raise TransientFailure(f"no TLS handshake with {host}:{port} in time") from None
            except ssl.SSLCertVerificationError as exc:
                return (
                    f"the server's certificate is not trusted ({exc.verify_message}); "
                    "store its CA as ca_cert",
                )
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError) as exc:
                # TLS 1.3 servers judge the client certificate after the handshake; a
                # refusal's alert may be lost to the reset of a socket closed with our
                # request unread. Say what was seen, and what it most likely means.
                return (
                    f"the server closed the connection during TLS ({type(exc).__name__}); "
                    "it most likely refused the client certificate",
                )
            except ssl.SSLError as exc:
                reason = (exc.reason or type(exc).__name__).lower().replace("_", " ")
                return (f"the TLS handshake failed: {reason}",)
            except OSError as exc:
                return (f"the TLS connection failed ({type(exc).__name__})",)

    def probe(tls: ssl.SSLSocket) -> tuple[str, ...]:
        """After the handshake: a refusal arrives as an alert or a close; anything else is fine."""
        with tls:
            tls.sendall(request.encode())
            try:
                first = tls.recv(_READ_BYTES)
            except TimeoutError:
                return ()  # no refusal, no answer within the timeout: the certificate stood
        if not first:
            return (
                "the server closed the connection without answering; it may have refused "
                "the client certificate",
            )
        return ()

    return http.retrying(once, what=f"{state.name}: TLS handshake with {host}:{port}")
