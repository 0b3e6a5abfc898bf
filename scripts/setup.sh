#!/usr/bin/env bash
# First command of the README: install what is missing, build Spate in release mode and
# run a windowed query over the sample in data/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
spate_install_deps
echo "==> swift build -c release" >&2
swift build -c release --product spate
bin="$(swift build -c release --show-bin-path)/spate"
echo "==> $bin sql -f data/q_tumble.sql" >&2
"$bin" sql -f data/q_tumble.sql --stats
