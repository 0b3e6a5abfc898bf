#!/usr/bin/env bash
# Nexmark queries over capture files made by the built-in generator:
#
#   Benchmarks/scripts/nexmark_capture.sh [--events N] [--runs 5] [--queries q5,q7,q8,q11]
#       [--keep DIR] [--spate-bin PATH]
#
# 1. `spate gen nexmark --events N --table bid|person|auction -o T.spate` (once; with
#    --keep DIR the files are kept there and reused).
# 2. `spate bench -f Q.sql --repeat RUNS` for each query over those files; the script
#    prints events/s in total and per core (median of the runs) as spate bench reports
#    them (events = the rows of the tables the query reads).
# q5 and q7 run in their engine-native Top-N form (Sources/Engine/Bench/Bench.swift);
# q8 is the window join of NEXMARK.md; q11 the legacy SESSION form.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

EVENTS=20000000
RUNS=5
QUERIES=q5,q7,q8,q11
KEEP=
SPATE_BIN=

die() { echo "nexmark_capture.sh: error: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --queries) QUERIES=${2:?}; shift 2 ;;
    --keep) KEEP=${2:?}; shift 2 ;;
    --spate-bin) SPATE_BIN=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$EVENTS" =~ ^[0-9]+$ && "$EVENTS" -gt 0 ]] || die "--events must be a positive integer"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -gt 0 ]] || die "--runs must be a positive integer"

# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"
make_work_dir spate-nexmark
build_spate

for table in bid person auction; do
  if [[ ! -s "$WORK/$table-$EVENTS.spate" ]]; then
    log "generating $table ($EVENTS events)"
    "$SPATE_BIN" gen nexmark --events "$EVENTS" --table "$table" -o "$WORK/$table-$EVENTS.spate" >&2
  fi
done

# The tables the queries read: capture files with Nexmark's watermark.
tables() {
  local t
  for t in "$@"; do
    echo "CREATE TABLE $t (WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND)"
    echo "  WITH ('connector' = 'filesystem', 'path' = '$WORK/$t-$EVENTS.spate');"
  done
}

query_sql() {  # $1: query name -> the script on stdout
  case "$1" in
    q5|q7|q11)
      tables bid
      "$SPATE_BIN" bench --print-nexmark "$1"
      echo ";" ;;
    q8)
      tables person auction
      cat <<'EOF'
SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
  GROUP BY id, name, window_start, window_end
) P
JOIN (
  SELECT seller, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
  GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;
EOF
      ;;
    *) die "unknown query '$1' (q5, q7, q8, q11)" ;;
  esac
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); spate $SPATE_REV"
echo "input: Nexmark generator, $EVENTS events, as capture files in $WORK"
IFS=, read -r -a QUERY_LIST <<<"$QUERIES"
for q in "${QUERY_LIST[@]}"; do
  query_sql "$q" > "$WORK/$q.sql"
  echo "--- $q"
  if ! "$SPATE_BIN" bench -f "$WORK/$q.sql" --repeat "$RUNS" --warmup 1 2>&1; then
    echo "$q: spate failed (see above)"
  fi
done
