"""Floor case 7: simulated power loss over recorded file-system calls (see powerloss.py).

A heal, an AWS profile refresh and a certificate renewal run in this process
with renewer's ``os`` calls recorded; every crash state a journaling file
system may come back with is replayed and checked:

* heal: the token file is the clobbering token or the new one, never empty;
  the ledger parses; once Vault has minted, the new token is in the file or
  the ledger remembers it (pending, current, or ``mint_started``);
* AWS profile: the old file or a complete new profile, ``[default]`` kept;
* certificate set: the ``pem_bundle`` and the ``cert_dir`` generation that
  ``current`` names each hold a certificate and the key that belongs to it.

And the model can fail: the same log without the token file's fsyncs, or
without the ledger directory's, produces a torn token file or a forgotten
mint.
"""

from __future__ import annotations

import configparser
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests import leakguard
from tests.integration.conftest import World
from tests.integration.test_run_service_credentials import OTHER, spki
from tests.reliability import tally
from tests.reliability.powerloss import (
    Content,
    Op,
    Recorder,
    crash_states,
    resolve,
    snapshot_tree,
    without_fsyncs,
)
from tests.reliability.test_crash_credentials import AwsProtocol, CertProtocol


def record(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Content], list[Op]]:
    """The home as it is, and the calls of one `renewer run` in this process."""
    world.write_config()
    initial = snapshot_tree(world.home)
    recorder = Recorder(str(world.home))
    with monkeypatch.context() as patched:
        recorder.install(patched)
        result = world.cli("run")
    assert result.code == 0, result.err
    return initial, recorder.ops


class Heal:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sink = str(world.sink)
        self.ledger = str(world.state / "ledger.json")

    def prepare(self) -> bytes:
        self.world.write(self.world.mint_ours())
        assert self.world.cli("run").code == 0
        clobber = self.world.admin_clobber()
        self.world.write(clobber)
        return clobber.encode()

    def violations(
        self, initial: dict[str, Content], ops: list[Op], old: bytes
    ) -> tuple[int, list[str]]:
        new = self.world.sink.read_bytes()
        leakguard.remember(new.decode())
        info = self.world.lookup(new.decode())
        assert info is not None
        accessor = info["accessor"]
        found: list[str] = []
        states = 0
        for cut, marks, state in crash_states(initial, ops):
            states += 1
            sink = state.get(self.sink)
            if sink not in {old, new}:
                found.append(f"cut {cut}: the token file is {'empty' if not sink else 'torn'}")
                continue
            ledger = _ledger(state.get(self.ledger))
            if ledger is None:
                found.append(f"cut {cut}: the ledger does not parse")
                continue
            if "heal.after_mint" in marks and sink != new and not _remembers(ledger, accessor):
                found.append(f"cut {cut}: Vault minted a token that neither file nor ledger has")
        return states, found


def _ledger(content: Content) -> dict[str, object] | None:
    if content is None:
        return {}
    try:
        document = json.loads(content)
    except (ValueError, TypeError):
        return None
    return document if isinstance(document, dict) and document.get("version") == 1 else None


def _remembers(ledger: dict[str, object], accessor: str) -> bool:
    entry = ledger.get("sinks", {}).get("devvm", {})  # type: ignore[attr-defined]
    known = [entry.get("current"), *entry.get("pending", []), *entry.get("superseded", [])]
    return bool(entry.get("mint_started")) or accessor in known


@pytest.mark.floor(7, 16)
def test_a_heal_survives_power_loss_at_every_step(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    heal = Heal(world)
    old = heal.prepare()
    initial, ops = record(world, monkeypatch)

    states, found = heal.violations(initial, ops, old)

    assert not found, found[:5]
    assert states > len(ops)
    tally.record("power-loss/heal", tries=states)


@pytest.mark.floor(7)
@pytest.mark.parametrize("dropped", ["token-file", "ledger-directory"])
def test_the_model_catches_a_missing_fsync(
    world: World, monkeypatch: pytest.MonkeyPatch, dropped: str
) -> None:
    """The same heal, replayed as if renewer had skipped an fsync: the model objects."""
    heal = Heal(world)
    old = heal.prepare()
    initial, ops = record(world, monkeypatch)
    state_dir = str(world.state)

    def skipped(path: str) -> bool:
        if dropped == "token-file":
            return ".vault-token" in path
        return path == state_dir

    _, found = heal.violations(initial, without_fsyncs(ops, of=skipped), old)

    expected = "empty" if dropped == "token-file" else "neither file nor ledger"
    assert any(expected in problem for problem in found), found[:5]
    tally.record(f"power-loss/self-test-{dropped}")


@pytest.mark.floor(7, 20)
def test_an_aws_profile_survives_power_loss_at_every_step(
    aws_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    protocol = AwsProtocol(aws_world)
    protocol.setup()
    protocol.arm()
    old = protocol.profile.read_bytes()
    initial, ops = record(aws_world, monkeypatch)
    profile = str(protocol.profile)

    states = 0
    for cut, _, state in crash_states(initial, ops):
        states += 1
        content = state.get(profile)
        assert isinstance(content, bytes), f"cut {cut}: no profile file"
        if content == old:
            continue
        assert content.decode().startswith(OTHER), f"cut {cut}: [default] damaged"
        parser = configparser.RawConfigParser()
        parser.read_string(content.decode())
        keys = dict(parser["dev"])
        assert set(keys) == {
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "x_security_token_expires",
        } and all(keys.values()), f"cut {cut}: an incomplete profile"
    tally.record("power-loss/aws-profile", tries=states)


@pytest.mark.floor(7, 20)
def test_a_certificate_set_survives_power_loss_at_every_step(
    pki_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    protocol = CertProtocol(pki_world)
    protocol.setup()
    protocol.arm()
    initial, ops = record(pki_world, monkeypatch)
    home = pki_world.home
    bundle = str(home / "tls" / "client.pem")
    cert_dir = home / "tls" / "client.d"

    states = 0
    for cut, _, state in crash_states(initial, ops):
        states += 1
        _assert_pair(state.get(bundle), state.get(bundle), f"cut {cut}: pem_bundle")
        generation = resolve(state, cert_dir)
        assert generation is not None, f"cut {cut}: no current certificate set"
        _assert_pair(
            state.get(str(generation / "cert.pem")),
            state.get(str(generation / "key.pem")),
            f"cut {cut}: cert_dir {generation.name}",
        )
    tally.record("power-loss/cert-set", tries=states)


def _assert_pair(cert: Content, key: Content, where: str) -> None:
    assert isinstance(cert, bytes) and cert, f"{where}: no certificate"
    assert isinstance(key, bytes) and key, f"{where}: no key"
    certificate = x509.load_pem_x509_certificate(cert)
    private = serialization.load_pem_private_key(key, None)
    assert spki(certificate) == spki(private), f"{where}: certificate and key do not match"
