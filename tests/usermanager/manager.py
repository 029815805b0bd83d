"""A real systemd user manager (systemd --user) for an unprivileged user, started by root.

The recipe of docs/shared real-peers ("A real systemd user manager"), made
safe to run beside other test sessions on one machine:

* a private mount namespace (``unshare --mount``) holds everything that would
  otherwise touch the host: a tmpfs ``/run`` with ``/run/systemd/system`` (so the
  manager starts without systemd as PID 1) and ``/run/systemd/unit-root`` (else
  every sandboxed unit fails ``226/NAMESPACE``), a tmpfs ``/var/log`` for a
  journald of our own, and ``/etc/passwd``/``/etc/group`` with a test user
  bind-mounted over the real ones: the user exists only in the namespace;
* the user's uid is a free one (no account, no process) picked per session,
  and its home is under ``/home`` (a home under ``/tmp`` would vanish behind
  ``PrivateTmp=``);
* the cgroup delegated to it is ``/<unique>.slice/user@UID.service`` in every
  mounted hierarchy: journald needs the ``….slice/user@UID.service`` shape to
  tell which user unit logged (``_SYSTEMD_USER_UNIT``), and a unique slice
  never meets another session's;
* the network namespace is the host's, so the Vault peer and the webhook
  receiver on 127.0.0.1 are reachable from the units.

Everything is undone by :meth:`UserManager.stop`: the manager and journald are
stopped, leftover processes in the delegated cgroup killed, the cgroups, the
home and the work dir removed. The namespace goes with its last process.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SYSTEMD = Path("/usr/lib/systemd/systemd")
JOURNALD = Path("/usr/lib/systemd/systemd-journald")
CGROUP_ROOT = Path("/sys/fs/cgroup")
USER_PATH = "/usr/local/bin:/usr/bin:/bin"

# Runs as root inside the new mount namespace, then becomes the user's manager.
BOOT = r"""
set -eu
mount --bind "$W/passwd" /etc/passwd
mount --bind "$W/group" /etc/group
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/systemd/system /run/systemd/journal "/run/user/$U"
mkdir -m 700 /run/systemd/unit-root
chown "$U:$U" "/run/user/$U"
chmod 700 "/run/user/$U"
mount -t tmpfs -o mode=755 tmpfs /var/log
mkdir -p /var/log/journal
"$JOURNALD" </dev/null >/dev/null 2>&1 &
echo $! >"$W/journald.pid"
# The manager logs to the journal as user@UID.service does on a booted machine (there its
# stderr is a journal stream; here --log-target=journal says so), once the socket exists:
# else `journalctl --user -u UNIT` never shows systemd's own lines about the unit
# ("Failed to set up mount namespacing", "Main process exited, status=226/NAMESPACE").
tries=0
while [ ! -S /run/systemd/journal/socket ] && [ "$tries" -lt 100 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
for d in $CGROUPS; do
    mkdir -p "$d"
    echo $$ >"$d/cgroup.procs"
    chown -R "$U:$U" "$d"
done
exec setpriv --reuid="$U" --regid="$U" --init-groups env -i HOME="$H" USER="$N" LOGNAME="$N" \
    XDG_RUNTIME_DIR="/run/user/$U" PATH="$USER_PATH" "$SYSTEMD" --user --log-target=journal
"""


def _hierarchies() -> list[Path]:
    """Where a cgroup must be made: the unified root, or each v1/hybrid hierarchy systemd uses."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return [CGROUP_ROOT]
    return [CGROUP_ROOT / name for name in ("systemd", "unified") if (CGROUP_ROOT / name).is_dir()]


def _uids_in_use() -> set[int]:
    used = {entry.pw_uid for entry in pwd.getpwall()}
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    used.add(int(line.split()[1]))
                    break
    return used


def _free_uid() -> int:
    """A uid no account and no process has, outside systemd's system and dynamic ranges."""
    used = _uids_in_use()
    start = random.randrange(20000, 59000)  # spreads concurrent sessions
    for uid in range(start, start + 1000):
        if uid not in used and not Path(f"/run/user/{uid}").exists():
            return uid
    raise RuntimeError("no free uid between 20000 and 60000")


def why_not() -> str | None:
    """Why a user manager cannot be started here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (a mount namespace, a delegated cgroup, another uid)"
    for tool in ("unshare", "nsenter", "setpriv", "systemctl", "journalctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    for binary in (SYSTEMD, JOURNALD):
        if not binary.exists():
            return f"{binary} is not installed"
    if not Path("/home").is_dir():
        return "/home does not exist (the user's home must not be under /tmp)"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"unshare --mount is not allowed here: {probe.stderr.strip()}"
    if not _hierarchies():
        return f"no cgroup hierarchy under {CGROUP_ROOT}"
    trial = f"renewer-probe-{uuid.uuid4().hex[:8]}.slice"
    for hierarchy in _hierarchies():
        try:
            (hierarchy / trial).mkdir()
        except OSError as exc:
            return f"cgroup delegation is not allowed here ({hierarchy}: {exc.strerror})"
        (hierarchy / trial).rmdir()
    python = shutil.which("python3", path=USER_PATH)
    if python is None:
        return f"no python3 on {USER_PATH} for the user's install"
    usable = subprocess.run(
        [python, "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"],
        capture_output=True,
        check=False,
    )
    if usable.returncode != 0:
        return f"{python} is not Python >= 3.11 with venv support (python3-venv)"
    return None


class UserManager:
    """``systemd --user`` of a throwaway user; :meth:`user` runs commands as that user."""

    def __init__(self) -> None:
        self.uid = _free_uid()
        self.name = f"rnw{self.uid}"
        self.work = Path(tempfile.mkdtemp(prefix="renewer-um-"))
        self.home = Path(tempfile.mkdtemp(prefix="renewer-um-", dir="/home"))
        self.slice = f"renewer-test-{uuid.uuid4().hex[:10]}.slice"
        self.cgroups = [h / self.slice / f"user@{self.uid}.service" for h in _hierarchies()]
        self.python = shutil.which("python3", path=USER_PATH) or "python3"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def runtime_dir(self) -> str:
        return f"/run/user/{self.uid}"

    def start(self) -> None:
        """Boot the manager; return once it is running and journald keeps user journals."""
        os.chown(self.home, self.uid, self.uid)
        self.home.chmod(0o700)
        passwd = Path("/etc/passwd").read_text()
        group = Path("/etc/group").read_text()
        (self.work / "passwd").write_text(
            passwd + f"{self.name}:x:{self.uid}:{self.uid}:renewer test:{self.home}:/bin/sh\n"
        )
        (self.work / "group").write_text(group + f"{self.name}:x:{self.uid}:\n")
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "U": str(self.uid),
            "N": self.name,
            "H": str(self.home),
            "W": str(self.work),
            "CGROUPS": " ".join(str(path) for path in self.cgroups),
            "SYSTEMD": str(SYSTEMD),
            "JOURNALD": str(JOURNALD),
            "USER_PATH": USER_PATH,
        }
        with (self.work / "boot.log").open("wb") as log:
            self.process = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", BOOT],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        state = ""
        while state not in {"running", "degraded"}:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the user manager did not start ({state}): {self.diagnose()}")
            time.sleep(0.2)  # until its socket exists, systemctl cannot even ask
            answer = self.systemctl("is-system-running", "--wait", timeout=90)
            state = answer.stdout.strip() or answer.stderr.strip()
        # Until the runtime journal is flushed to /var/log/journal, journald keeps
        # no per-user file, and `journalctl --user` sees nothing.
        self.root("journalctl", "--flush")

    def diagnose(self) -> str:
        log = (self.work / "boot.log").read_text(errors="replace")
        state = "running" if self.process and self.process.poll() is None else "exited"
        return f"manager {state}; boot log: {log.strip()[-2000:]}"

    def _enter(self) -> list[str]:
        return ["nsenter", "-t", str(self.pid), "-m", "--"]

    def root(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run *argv* as root inside the manager's mount namespace."""
        return subprocess.run(
            [*self._enter(), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def user_env(self, **extra: str) -> dict[str, str]:
        """A login shell's environment for the user (what `systemctl --user` needs)."""
        return {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "XDG_RUNTIME_DIR": self.runtime_dir,
            "PATH": f"{self.home}/.local/bin:{USER_PATH}",
            "LANG": "C.UTF-8",
            **extra,
        }

    def user(
        self, *argv: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run *argv* as the user, in the namespace, from the home directory."""
        variables = [f"{key}={value}" for key, value in self.user_env(**(env or {})).items()]
        command = [
            *self._enter(),
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.uid}",
            "--init-groups",
            "env",
            "-i",
            "-C",
            str(self.home),
            *variables,
            *argv,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def systemctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.user("systemctl", "--user", *args, timeout=timeout)

    def write(self, relative: str, text: str, mode: int = 0o600) -> Path:
        """A file in the user's home, owned by the user (parents too)."""
        path = self.home / relative
        for parent in reversed(path.relative_to(self.home).parents):
            directory = self.home / parent
            if not directory.exists():
                directory.mkdir()
                os.chown(directory, self.uid, self.uid)
        path.write_text(text)
        os.chown(path, self.uid, self.uid)
        path.chmod(mode)
        return path

    def stop(self) -> None:
        """Stop everything started for the user manager and remove every trace of it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the user manager stops its units, exits
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        journald = self.work / "journald.pid"
        if journald.exists():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(journald.read_text()), signal.SIGTERM)
        self._empty_cgroups()
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)

    def _empty_cgroups(self) -> None:
        """Kill what is left in the delegated cgroups, then remove them bottom-up."""
        for top in [h / self.slice for h in _hierarchies()]:
            if not top.exists():
                continue
            for _attempt in range(50):
                pids = [
                    int(pid)
                    for procs in top.rglob("cgroup.procs")
                    for pid in procs.read_text().split()
                ]
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.1)
            for directory in sorted(
                (path for path in top.rglob("*") if path.is_dir()),
                key=lambda path: len(path.parts),
                reverse=True,
            ):
                with contextlib.suppress(OSError):
                    directory.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()
