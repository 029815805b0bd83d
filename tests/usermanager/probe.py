"""Run as a unit under the real user manager: what does the sandbox actually do?

Stdlib only (it runs on the installed venv's Python, or any python3). Each
check is chosen so that the answer *with* the sandbox line differs from the
answer an unprivileged user gets *without* it (a plain permission error would
prove nothing). Writes one JSON object to ``argv[1]``.

argv: OUTPUT OTHER_DIR TMP_MARKER VAR_TMP_MARKER
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import mmap
import os
import socket
import stat
import sys

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def attempt(action: object) -> str:
    """ "ok", or the error's strerror."""
    try:
        action()  # type: ignore[operator]
    except OSError as error:
        return error.strerror or type(error).__name__
    return "ok"


def libc_call(result: int) -> str:
    return "ok" if result == 0 else os.strerror(ctypes.get_errno())


def create_in(directory: str) -> str:
    path = os.path.join(directory, f".probe-{os.getpid()}")

    def create() -> None:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(path)

    return attempt(create)


def mount_options(point: str) -> list[str]:
    """The per-mount options of the mount at *point* (the last one wins), or [] if none."""
    found: list[str] = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            if fields[4] == point:
                found = fields[5].split(",")
    return found


def status() -> dict[str, str]:
    with open("/proc/self/status") as handle:
        lines = handle.read().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":\t") for line in lines)}


def mmap_wx() -> None:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()


def main() -> None:
    output, other, tmp_marker, var_tmp_marker = sys.argv[1:5]
    home = os.environ["HOME"]
    own = status()
    found = {
        "usr": create_in("/usr"),
        "etc": create_in("/etc"),
        "home": create_in(home),
        "other_dir": create_in(other),
        "tmp_marker_visible": os.path.exists(tmp_marker),
        "var_tmp_marker_visible": os.path.exists(var_tmp_marker),
        "block_devices": sorted(
            name
            for name in os.listdir("/dev")
            if stat.S_ISBLK(os.lstat(os.path.join("/dev", name)).st_mode)
        ),
        "kmsg_visible": os.path.exists("/dev/kmsg"),
        "proc_sys_read_only": "ro" in mount_options("/proc/sys"),
        "cgroup": attempt(lambda: os.mkdir(f"/sys/fs/cgroup/probe-{os.getpid()}")),
        "modules": attempt(lambda: os.listdir("/usr/lib/modules")),
        "no_new_privs": own.get("NoNewPrivs", ""),
        "umask": own.get("Umask", ""),
        "capability_bounding_set": own.get("CapBnd", ""),
        "uid_map": " ".join(open("/proc/self/uid_map").read().split()),  # noqa: SIM115
        "unshare_user_namespace": libc_call(libc.unshare(0x10000000)),
        "sethostname": libc_call(libc.sethostname(b"probe", 5)),
        "write_execute_memory": attempt(mmap_wx),
        "netlink_socket": attempt(
            lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()
        ),
        "inet_socket": attempt(lambda: socket.socket(socket.AF_INET).close()),
        "lower_own_priority": attempt(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1)),
        "personality_linux32": "ok"
        if libc.personality(0x0008) != -1
        else os.strerror(ctypes.get_errno()),
        "pid1_visible": os.path.exists("/proc/1/status"),
        "meminfo_visible": os.path.exists("/proc/meminfo"),
        "other_users_pids": sum(
            1
            for entry in os.listdir("/proc")
            if entry.isdigit() and _owner(entry) not in {None, os.getuid()}
        ),
    }
    with open(output, "w") as handle:
        json.dump(found, handle, indent=1)


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


if __name__ == "__main__":
    main()
