"""The hash-locked requirements still satisfy pyproject.toml and miss nothing.

install.sh and CI install only from requirements/*.txt (`pip install
--require-hashes`). These tests fail when someone edits pyproject.toml's
ranges without running requirements/refresh.sh, when a lock misses a package
that a locked package needs, or when a pin has no hash. The dependency walk
reads the metadata of the installed distributions, which are the locked ones
in a `./install.sh --dev` venv.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: str) -> dict[str, str]:
    """name → version of every pin in requirements/<lock>.txt."""
    found: dict[str, str] = {}
    for line in (LOCKS / f"{lock}.txt").read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = match[2]
    return found


def hashless(lock: str) -> list[str]:
    """Pins in requirements/<lock>.txt that carry no --hash."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / f"{lock}.txt").read_text())
    return [entry.split()[0] for entry in entries if _PIN.match(entry) and "--hash=" not in entry]


def project() -> dict[str, list[Requirement]]:
    """pyproject.toml's requirements per lock: runtime (with the build system), dev, journal."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        data = tomllib.load(file)
    extras = data["project"]["optional-dependencies"]
    return {
        "runtime": [
            Requirement(text)
            for text in data["project"]["dependencies"] + data["build-system"]["requires"]
        ],
        "dev": [Requirement(text) for text in extras["dev"]],
        "journal": [Requirement(text) for text in extras["journal"]],
    }


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, from the installed metadata."""
    seen: set[str] = set()
    todo = [(requirement, frozenset(requirement.extras)) for requirement in requirements]
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        key = name + "[" + ",".join(sorted(extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        try:
            needs = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (e.g. systemd-python): its pin is checked alone
        for text in needs:
            need = Requirement(text)
            wanted = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if need.marker is None or any(need.marker.evaluate(env) for env in wanted):
                todo.append((need, frozenset(need.extras)))
    return {key.partition("[")[0] for key in seen}


class TestLocks:
    @pytest.mark.parametrize("lock", ["runtime", "dev", "journal"])
    def test_every_requirement_is_pinned_within_its_range(self, lock: str) -> None:
        """A range edited in pyproject.toml without a refresh fails here."""
        locked = pins(lock)
        for requirement in project()[lock]:
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{name} is missing from requirements/{lock}.txt"
            assert requirement.specifier.contains(locked[name], prereleases=True), (
                f"requirements/{lock}.txt pins {name}=={locked[name]}, outside {requirement}: "
                "run requirements/refresh.sh"
            )

    @pytest.mark.parametrize("lock", ["runtime", "dev", "journal"])
    def test_every_pin_has_a_hash(self, lock: str) -> None:
        """pip --require-hashes refuses a lock with one bare pin."""
        assert hashless(lock) == []

    def test_the_dev_lock_pins_the_runtime_versions(self) -> None:
        """CI tests exactly what a user installs."""
        runtime, dev = pins("runtime"), pins("dev")
        assert {name: dev.get(name) for name in runtime} == runtime

    @pytest.mark.parametrize("lock", ["runtime", "dev"])
    def test_what_the_locked_packages_need_is_locked_too(self, lock: str) -> None:
        """A dependency of a dependency missing from the lock would fail the install."""
        requirements = project()[lock] + (project()["runtime"] if lock == "dev" else [])
        missing = closure(requirements) - set(pins(lock))
        assert missing == set(), f"run requirements/refresh.sh: {sorted(missing)}"

    def test_this_venv_runs_the_locked_versions(self) -> None:
        """The venv the suite runs in was installed from the dev lock, not resolved afresh."""
        drift = {
            name: (version, importlib.metadata.version(name))
            for name, version in pins("dev").items()
            if _installed(name) and importlib.metadata.version(name) != version
        }
        assert drift == {}, "reinstall with ./install.sh --dev"


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True
