#!/usr/bin/env bash
# Second command of the README (and what CI runs): the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
spate_install_deps
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test --skip-build "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line: the Swift Testing summary count (XCTest, which has no tests
# here, prints its own "Executed 0 tests" earlier).
passed=$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} in .* passed.*/\1/p' "$log" | tail -n 1)
if [ "$status" -eq 0 ] && [ -n "$passed" ]; then
    echo "tests: $passed passed, 0 failed"
fi
exit "$status"
