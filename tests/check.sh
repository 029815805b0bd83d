#!/bin/sh
# The project's test command: lint, format, types, then the test suite.
# Extra arguments go to pytest (e.g. tests/check.sh -k sweep).
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
echo "== ruff check" && "$VENV/bin/ruff" check .
echo "== ruff format --check" && "$VENV/bin/ruff" format --check .
echo "== mypy" && "$VENV/bin/mypy"
echo "== pytest" && "$VENV/bin/pytest" -q "$@"
