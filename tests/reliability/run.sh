#!/bin/sh
# Regenerate docs/reliability.md (issue #8): run the reliability suite and every
# test marked with a floor case, tally what was tried, render the report.
#
#   tests/reliability/run.sh          the short run (what CI runs), ~2 minutes
#   tests/reliability/run.sh --long   hundreds of kills and thousands of fuzz
#                                     examples per case, ~10 minutes
#
# Extra arguments go to pytest. The exit status is pytest's; the report is
# written either way (a failing case shows as FAIL in it).
set -eu
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
command="tests/reliability/run.sh"
if [ "${1:-}" = "--long" ]; then
    RENEWER_LONG_TESTS=1
    export RENEWER_LONG_TESTS
    command="tests/reliability/run.sh --long"
    shift
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
RENEWER_RELIABILITY_REPORT="$report" "$VENV/bin/pytest" -q -p no:randomly \
    -m "floor or reliability" tests "$@" || status=$?
"$VENV/bin/python" -m tests.reliability.report "$report" docs/reliability.md "$command"
echo "wrote docs/reliability.md (pytest exit $status)"
exit "$status"
