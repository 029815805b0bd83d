"""Every program renewer starts gets a scrubbed environment.

Issue 20, item 7: rotation ``check`` and ``hook`` commands inherited
``VAULT_TOKEN`` (only credential hooks stripped it). Here renewer's
environment holds a Vault token, an OpenBao token, a GitHub token, an AWS
secret and a variable whose value is a secret renewer registered; each real
spawn path (rotation check, rotation hook, credential hook, notify-send,
systemctl) starts a small program that reports what it inherited.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from renewer import redact
from renewer.core.secret import Secret
from renewer.credentials.hooks import run_hook
from renewer.credentials.spec import HookSpec
from renewer.notify import notification_test_report, send_desktop
from renewer.rotation.hooks import CommandHook, run_check
from renewer.systemd import timer_status
from tests import leakguard

VAULT = "hvs.CAESIchildenvironmentvaulttoken00000"
SECRETS = {
    "VAULT_TOKEN": VAULT,
    "BAO_TOKEN": "s.childenvironmentbaotoken000000",
    "GITHUB_TOKEN": "ghp_childenvironmentgithubtoken00",
    "AWS_SECRET_ACCESS_KEY": "childenvironmentawssecretkey0000",
    "RENEWER_TEST_NOTE": "registered-secret-in-an-innocent-name",
}
KEPT = {"PATH", "AWS_PROFILE", "XDG_RUNTIME_DIR"}  # what children need still arrives
DUMP = """\
import json, os, sys
with open(sys.argv[1], "w") as out:
    json.dump(dict(os.environ), out)
"""


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """renewer's environment with credentials in it; the path the children report to."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    leakguard.remember(*SECRETS.values())
    redact.register(SECRETS["RENEWER_TEST_NOTE"])
    (tmp_path / "dump.py").write_text(DUMP)
    return tmp_path / "env.json"


def program(tmp_path: Path, name: str, report: Path) -> Path:
    """An executable *name* that reports its environment to *report* (a stand-in binary)."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + DUMP.replace("sys.argv[1]", repr(str(report))))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def inherited(report: Path) -> dict[str, str]:
    env: dict[str, str] = json.loads(report.read_text())
    return env


def assert_scrubbed(env: dict[str, str]) -> None:
    assert not set(SECRETS) & set(env), sorted(set(SECRETS) & set(env))
    assert not any(value in SECRETS.values() for value in env.values())
    assert set(env) >= KEPT


def test_a_rotation_check_command(environment: Path, tmp_path: Path) -> None:
    run_check(
        (sys.executable, str(tmp_path / "dump.py"), str(environment)),
        Secret("green-value-000"),
        name="webhook",
        timeout=30,
        state_dir=tmp_path / "state",
    )
    assert_scrubbed(inherited(environment))


def test_a_rotation_hook(environment: Path, tmp_path: Path) -> None:
    hook = CommandHook(
        argv=(sys.executable, str(tmp_path / "dump.py"), str(environment)),
        template="current: ${current}\n",
        state_dir=tmp_path / "state",
        name="webhook",
    )
    hook({"current": Secret("green-value-000")})
    assert_scrubbed(inherited(environment))


def test_a_credential_hook(environment: Path, tmp_path: Path) -> None:
    spec = HookSpec(command=(sys.executable, str(tmp_path / "dump.py"), str(environment)))
    run_hook(spec, credential="api", sink_paths=[tmp_path / "sink"])
    env = inherited(environment)
    assert_scrubbed(env)
    assert env["RENEWER_CREDENTIAL"] == "api"


def test_notify_send(environment: Path, tmp_path: Path) -> None:
    notify_send = program(tmp_path, "notify-send", environment)
    report = notification_test_report(unit="renewer.service", host="devvm", now=0.0)

    delivery = send_desktop(report, which=lambda _: str(notify_send))

    assert delivery is not None and delivery.ok
    assert_scrubbed(inherited(environment))


def test_systemctl(environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program(tmp_path, "systemctl", environment)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    timer_status(timeout=30)

    assert_scrubbed(inherited(environment))


ROOT = Path(__file__).resolve().parents[2] / "renewer"


def test_every_subprocess_call_in_renewer_passes_a_child_environment() -> None:
    """subprocess.run/Popen without env= would inherit everything: none may exist."""
    missing = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"run", "Popen", "call", "check_output", "check_call"}
                and getattr(node.func.value, "id", "") == "subprocess"
            ):
                env = next((kw.value for kw in node.keywords if kw.arg == "env"), None)
                if env is None:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert missing == []
