#!/bin/sh
# Refresh the hash-locked requirements from pyproject.toml's ranges.
#
#   requirements/refresh.sh                        re-resolve, keeping today's pins where they still fit
#   requirements/refresh.sh --upgrade              move every pin to the newest release in range
#   requirements/refresh.sh --upgrade-package moto move one
#
# Three locks, all with hashes (pip install --require-hashes):
#   runtime.txt  what `./install.sh` installs: the dependencies, plus setuptools and wheel
#                to build renewer itself without fetching anything unlocked
#   journal.txt  systemd-python alone (it builds from source; install.sh installs it only
#                where it can build, and renewer logs to stderr without it)
#   dev.txt      the runtime pins plus the test tools, for `./install.sh --dev` and CI
# dev.txt and journal.txt are resolved under runtime.txt, so a package has one version
# everywhere. Needs `./install.sh --dev` first (pip-compile comes from .venv).
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
compile() {
    "$VENV/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
        --no-emit-index-url --no-emit-find-links "$@"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

compile --build-deps-for wheel -o requirements/runtime.txt "$@" pyproject.toml
compile --extra dev -c requirements/runtime.txt -o requirements/dev.txt "$@" pyproject.toml
# The journal extra on its own (its only package has no dependencies).
"$VENV/bin/python" -c 'import tomllib
with open("pyproject.toml", "rb") as f:
    print(*tomllib.load(f)["project"]["optional-dependencies"]["journal"], sep="\n")' \
    >"$tmp/journal.in"
compile -c requirements/runtime.txt -o requirements/journal.txt "$@" "$tmp/journal.in"
sed -i "s|$tmp/journal.in|pyproject.toml (journal extra)|" requirements/journal.txt
echo "refreshed requirements/{runtime,dev,journal}.txt; check with: tests/check.sh tests/test_locks.py"
