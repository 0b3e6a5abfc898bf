#!/usr/bin/env bash
# Correctness oracle: every windowed query shape through Spate and through DuckDB's
# equivalent batch SQL over the same generated data (no late rows), results compared.
#
#   Benchmarks/scripts/oracle.sh [--rows 300000] [--seed 42] [--ms-per-bid 10]
#       [--workers 1,2] [--shapes tumble,hop,...] [--require-all] [--no-selftest]
#       [--timeout 300] [--keep DIR] [--spate-bin PATH]
#
# Prints PASS / FAIL (with a diff excerpt) / UNSUPPORTED (Spate's error) per shape.
# Exit 1 if any shape fails (with --require-all also if any is unsupported), 2 on a
# usage or setup error. `oracle.py list` names the shapes. See Benchmarks/scripts/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

ROWS=300000
SEED=42
MS_PER_BID=10
WORKERS=1,2
SHAPES=
REQUIRE_ALL=
SELFTEST=1
TIMEOUT=300
KEEP=
SPATE_BIN=

die() { echo "oracle.sh: error: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --ms-per-bid) MS_PER_BID=${2:?}; shift 2 ;;
    --workers) WORKERS=${2:?}; shift 2 ;;
    --shapes) SHAPES=${2:?}; shift 2 ;;
    --require-all) REQUIRE_ALL=--require-all; shift ;;
    --no-selftest) SELFTEST=; shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --keep) KEEP=${2:?}; shift 2 ;;
    --spate-bin) SPATE_BIN=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$ROWS" =~ ^[0-9]+$ && "$ROWS" -gt 0 ]] || die "--rows must be a positive integer"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
[[ "$MS_PER_BID" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--ms-per-bid must be a positive number"
[[ "$WORKERS" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--workers takes counts separated by commas, e.g. 1,2"
[[ "$TIMEOUT" =~ ^[0-9]+$ && "$TIMEOUT" -gt 0 ]] || die "--timeout must be a positive number of seconds"
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "python3 not found (set PYTHON=...)"

source "$SCRIPT_DIR/common.sh"
make_work_dir spate-oracle
build_spate
make_venv numpy duckdb
ORACLE_PY=$SCRIPT_DIR/oracle.py

# the data: bids (gen_bids.py, re-spaced in event time), auctions, persons
DATA=$WORK/oracle_${ROWS}_seed${SEED}_ms${MS_PER_BID}
if [[ -s "$DATA/bids.csv" && -s "$DATA/auctions.csv" && -s "$DATA/persons.csv" ]]; then
  log "reusing $DATA"
else
  log "generating $ROWS bids with auctions and persons in $DATA"
  "$PY" "$ORACLE_PY" gen "$DATA" --rows "$ROWS" --seed "$SEED" --ms-per-bid "$MS_PER_BID" \
    || die "data generation failed"
fi

shape_args=()
[[ -n "$SHAPES" ]] && shape_args=(--shapes "$SHAPES")

# The oracle's own check: DuckDB's SQL against a row-by-row Python reference.
if [[ -n "$SELFTEST" ]]; then
  log "checking the DuckDB queries against a plain-Python reference (--no-selftest skips)"
  src=0
  "$PY" "$ORACLE_PY" selftest "$DATA" "${shape_args[@]}" >"$WORK/selftest.txt" 2>&1 || src=$?
  if [[ $src -ne 0 ]]; then
    cat "$WORK/selftest.txt" >&2
    [[ $src -eq 1 ]] && die "the oracle's DuckDB queries disagree with the Python reference (see above)"
    die "oracle.py selftest failed (exit $src)"
  fi
fi

log "Spate $SPATE_REV vs DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)'), workers $WORKERS"
rc=0
"$PY" "$ORACLE_PY" check "$DATA" --spate "$SPATE_BIN" --workers "$WORKERS" --timeout "$TIMEOUT" \
  "${shape_args[@]}" $REQUIRE_ALL || rc=$?
if [[ $rc -eq 1 ]]; then
  echo "oracle.sh: FAILED${REQUIRE_ALL:+ (--require-all: unsupported shapes count as failures)}" >&2
elif [[ $rc -ne 0 ]]; then
  die "oracle.py check exited with $rc"
fi
exit "$rc"
