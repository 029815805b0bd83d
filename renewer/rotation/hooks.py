"""Commands a rotation runs: check commands and post-rotation hooks, without secrets in argv.

A command is configured as an argv list whose items may name placeholders
(``{manifest}``, ``{credential_file}``, ``{name}``). Placeholders stand for
*paths and names*, never for secret values: a secret reaches a command only
inside a file renewer creates 0600 in its private state dir and removes when
the command ends (argv is world-readable in ``/proc``; environment variables
leak into child processes and crash reports). A manifest (e.g. the
``orchestrator apply -f {manifest}`` file) is rendered from a YAML or JSON
template with ``string.Template`` placeholders (``${current}``,
``${previous}``) *as data* (issue 20, item 5): the template is parsed, each
placeholder is replaced inside the string it stands in, and the result is
written by a serializer. A secret holding ``\nreplicas: 0`` stays one string
value; text substitution would have made it two more keys.

Unknown placeholders are configuration errors, reported when the config is
loaded. Commands run without a shell, with a timeout; their output is
scrubbed of registered secrets before it is shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import string
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renewer.childenv import child_env
from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import RotationBlocked, RotationHookFailed
from renewer.files import TEMP_INFIX, ensure_private_dir, fsync_directory
from renewer.redact import scrub

CHECK_PLACEHOLDERS = frozenset({"credential_file", "name"})
HOOK_PLACEHOLDERS = frozenset({"manifest", "name"})
_OUTPUT_TAIL = 400


def placeholders(argument: str) -> set[str]:
    """The ``{fields}`` named in *argument*; ``ValueError`` when the braces are malformed."""
    names: set[str] = set()
    for _, field, spec, conversion in string.Formatter().parse(argument):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"{{{field}}} is not a plain placeholder")
        names.add(field)
    return names


def check_argv(argv: Sequence[str], allowed: frozenset[str]) -> None:
    """``ValueError`` naming the first unknown placeholder in *argv*."""
    for index, argument in enumerate(argv):
        try:
            unknown = sorted(placeholders(argument) - allowed)
        except ValueError as exc:
            raise ValueError(
                f"item {index}: {exc} (write {{{{ and }}}} for literal braces)"
            ) from None
        if unknown:
            known = ", ".join(f"{{{name}}}" for name in sorted(allowed))
            raise ValueError(f"item {index}: unknown placeholder {{{unknown[0]}}} (known: {known})")


def render_argv(argv: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """*argv* with placeholders filled from *values* (paths and names only, never secrets)."""
    return [argument.format_map(values) for argument in argv]


def manifest_data(template: str, *, source: str = "the manifest template") -> tuple[Any, bool]:
    """The template as data, and whether it is JSON; ``ValueError`` naming *source* and line.

    JSON when it parses as JSON (JSON is YAML too, but its writer keeps the
    form), else one YAML document through the bounded loader of the config.
    A placeholder must stand in a string value: ``{a: ${current}}`` is not
    valid YAML (write ``{a: "${current}"}``), and a key cannot be one.
    """
    from renewer.errors import ConfigError
    from renewer.yamlmarks import load_text

    if template.lstrip().startswith(("{", "[")):
        with contextlib.suppress(ValueError, RecursionError):
            return _checked(json.loads(template), source), True
    try:
        document = load_text(template, source=source, error=ConfigError)
    except ConfigError as exc:
        raise ValueError(f"{exc} (placeholders go inside quoted strings)") from None
    return _checked(document.data, source), False


def _checked(data: Any, source: str) -> Any:
    """Plain lists, dicts and scalars; placeholders only in values."""
    if isinstance(data, Mapping):
        for key in data:
            if "$" in str(key):
                raise ValueError(f"{source}: key {key!r}: a placeholder must be a value, not a key")
        return {key: _checked(value, source) for key, value in data.items()}
    if isinstance(data, list):  # yamlmarks' Append is a list too: written as a plain one
        return [_checked(item, source) for item in data]
    return data


def _substituted(data: Any, values: Mapping[str, str]) -> Any:
    if isinstance(data, str):
        try:
            return string.Template(data).substitute(values)
        except KeyError as exc:
            raise ValueError(
                f"the manifest template names ${{{exc.args[0]}}}, which has no value"
            ) from None
        except ValueError as exc:
            raise ValueError(f"the manifest template is malformed ({exc})") from None
    if isinstance(data, dict):
        return {key: _substituted(value, values) for key, value in data.items()}
    if isinstance(data, list):
        return [_substituted(item, values) for item in data]
    return data


def render_manifest(template: str, values: Mapping[str, Secret]) -> bytes:
    """The manifest: the template's data with ``${name}`` filled in, serialized again.

    ``ValueError`` if the template is not YAML/JSON or names a value that has none.
    """
    import yaml

    data, as_json = manifest_data(template)
    filled = _substituted(data, {name: value.reveal() for name, value in values.items()})
    if as_json:
        return (json.dumps(filled, indent=2, ensure_ascii=False) + "\n").encode()
    # ASCII out: PyYAML writes \x85 and \u2028 raw with allow_unicode, and reads them
    # back as line breaks; escaped, every value comes back as itself.
    text = yaml.safe_dump(filled, sort_keys=False, allow_unicode=False, default_flow_style=False)
    return text.encode()


@contextlib.contextmanager
def secret_file(directory: Path, content: bytes, *, label: str) -> Iterator[Path]:
    """A 0600 file holding *content* for the duration of the block, then removed.

    Named like :func:`renewer.files.write_atomic`'s temp files, so a run killed
    inside the block leaves a file the next run's leftover sweep removes.
    """
    ensure_private_dir(directory)
    path = directory / f".{label}{TEMP_INFIX}{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        fsync_directory(directory)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How a command ended; *output* is a scrubbed tail of what it printed."""

    argv0: str
    exit_code: int | None  # None: it did not finish in time or could not start
    output: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def explain(self) -> str:
        if self.problem:
            return f"{self.argv0}: {self.problem}"
        tail = f": {self.output}" if self.output else ""
        return f"{self.argv0} exited {self.exit_code}{tail}"


def run_command(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> CommandResult:
    """Run *argv* (no shell); never raises for the command's failure.

    The child gets *env* (None: ours) without credentials (:mod:`renewer.core.childenv`).
    """
    name = os.path.basename(argv[0]) if argv else "?"
    try:
        completed = subprocess.run(
            list(argv),
            env=child_env(base=env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(name, None, problem=f"did not finish within {timeout:g}s")
    except OSError as exc:
        return CommandResult(name, None, problem=f"cannot run it: {exc.strerror}")
    text = completed.stdout.decode("utf-8", "replace").strip()
    return CommandResult(
        name, completed.returncode, output=scrub(" ".join(text.split()))[-_OUTPUT_TAIL:]
    )


def run_check(
    argv: Sequence[str], value: Secret, *, name: str, timeout: float, state_dir: Path
) -> CommandResult | None:
    """A rotation's ``check:`` command against *value*; None when none is configured.

    The value is in a 0600 file named by ``{credential_file}`` for the
    duration of the command, and nowhere else.
    """
    if not argv:
        return None
    with secret_file(state_dir, value.reveal().encode(), label=f"check-{name}") as path:
        rendered = render_argv(argv, {"credential_file": str(path), "name": name})
        return run_command(rendered, timeout=timeout)


def check_verdict(
    argv: Sequence[str], value: Secret, *, name: str, timeout: float, state_dir: Path
) -> Verdict:
    """:func:`run_check` as a validation verdict: ok when none is configured or it passed."""
    result = run_check(argv, value, name=name, timeout=timeout, state_dir=state_dir)
    if result is not None and not result.ok:
        return Verdict((f"check command failed: {result.explain()}",))
    return Verdict()


@dataclass(frozen=True, slots=True)
class CommandHook:
    """A post-rotation hook: render the manifest from the values, run argv on it.

    ``orchestrator apply -f {manifest}`` with a template such as::

        webhook:
          secrets: ["${current}", "${previous}"]

    The rendered manifest holds secrets, so it exists only as a 0600 file in
    the state dir for the duration of the command.
    """

    argv: tuple[str, ...]
    template: str
    state_dir: Path
    name: str
    timeout: float = 60.0

    def __call__(self, values: Mapping[str, Secret]) -> None:
        try:
            manifest = render_manifest(self.template, values)
        except ValueError as exc:
            raise RotationBlocked(f"post-rotation hook of {self.name}: {exc}") from None
        with secret_file(self.state_dir, manifest, label=f"manifest-{self.name}") as path:
            argv = render_argv(self.argv, {"manifest": str(path), "name": self.name})
            result = run_command(argv, timeout=self.timeout)
        if not result.ok:
            raise RotationHookFailed(
                f"the post-rotation hook of {self.name} failed: {result.explain()}",
                hint=f"fix the hook; the next run applies the values again "
                f"(or now: renewer rotate {self.name})",
            )
