"""Hooks: a command run after a credential's sinks changed (like certbot's deploy hooks).

Rules, each pinned by a test:

* the command is an argv list, run without a shell; a string runs under
  ``/bin/sh -c`` only when the config says ``shell: true``;
* no secret reaches the hook through argv or the environment: it gets
  ``RENEWER_CREDENTIAL`` (the name), ``RENEWER_SINKS`` (the sink paths,
  ``:``-separated) and ``RENEWER_SINK_0``, ``RENEWER_SINK_1``, ... and reads
  the sinks it needs. ``VAULT_TOKEN`` is removed from what it inherits;
* stdin is ``/dev/null``; stdout and stderr are captured together,
  truncated, scrubbed of known secrets, and logged;
* a timeout kills the hook's whole process group (TERM, then KILL);
* a non-zero exit or a timeout is ``HookFailed`` (exit 1), whose message
  says that the sinks were already written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from renewer.childenv import child_env
from renewer.credentials.spec import HookSpec
from renewer.errors import HookFailed
from renewer.redact import scrub

MAX_OUTPUT = 4096
_GRACE = 2.0

log = structlog.get_logger("renewer")


@dataclass(frozen=True, slots=True)
class HookResult:
    command: str
    returncode: int | None
    timed_out: bool
    output: str  # scrubbed and truncated


def hook_environment(
    base: Mapping[str, str], *, credential: str, sink_paths: Sequence[Path]
) -> dict[str, str]:
    """The hook's environment: *base* without credentials, plus names and paths."""
    extra = {
        "RENEWER_CREDENTIAL": credential,
        "RENEWER_SINKS": ":".join(str(path) for path in sink_paths),
    }
    for index, path in enumerate(sink_paths):
        extra[f"RENEWER_SINK_{index}"] = str(path)
    return child_env(extra, base=base)


def run_hook(
    spec: HookSpec,
    *,
    credential: str,
    sink_paths: Sequence[Path],
    environ: Mapping[str, str] | None = None,
) -> HookResult:
    """Run *spec*; raise ``HookFailed`` when it fails, return its result when it succeeds."""
    argv = ["/bin/sh", "-c", spec.command] if isinstance(spec.command, str) else list(spec.command)
    env = hook_environment(
        os.environ if environ is None else environ, credential=credential, sink_paths=sink_paths
    )
    written = ", ".join(str(path) for path in sink_paths) or "no sinks"
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so a timeout can kill all of it
        )
    except OSError as exc:
        raise HookFailed(
            f"{credential}: hook `{spec.describe()}` could not start ({exc.strerror}); "
            f"the sinks were written ({written})",
            hint="check the command's path and permissions in the config",
        ) from None
    output, timed_out = _wait(process, spec.timeout)
    result = HookResult(spec.describe(), process.returncode, timed_out, output)
    if timed_out or process.returncode != 0:
        raise _failure(credential, spec, result, written)
    log.info("hook.ran", credential=credential, command=result.command, output=output)
    return result


def _failure(credential: str, spec: HookSpec, result: HookResult, written: str) -> HookFailed:
    log.warning(
        "hook.failed",
        credential=credential,
        command=result.command,
        returncode=result.returncode,
        timed_out=result.timed_out,
        output=result.output,
    )
    if result.timed_out:
        what = f"timed out after {spec.timeout}s and was killed"
    else:
        what = f"exited with status {result.returncode}"
    return HookFailed(
        f"{credential}: hook `{result.command}` {what}; the sinks were written ({written})",
        hint=f"run the hook by hand to see why, then `renewer run --only {credential}`",
    )


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[str, bool]:
    timed_out = False
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _signal_group(process, signal.SIGTERM)
        try:
            raw, _ = process.communicate(timeout=_GRACE)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            raw, _ = process.communicate()
    text = (raw or b"")[:MAX_OUTPUT].decode("utf-8", "replace")
    if raw and len(raw) > MAX_OUTPUT:
        text += f"\n[... {len(raw) - MAX_OUTPUT} more bytes]"
    return scrub(text), timed_out


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
