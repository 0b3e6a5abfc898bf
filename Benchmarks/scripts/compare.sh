#!/usr/bin/env bash
# End-to-end comparison of Spate against DuckDB and Polars on a generated bids CSV.
#
#   Benchmarks/scripts/compare.sh [--rows N] [--runs 5] [--threads 2] [--seed 42]
#       [--engines spate,duckdb,polars] [--queries q1,q2,parse] [--keep DIR] [--out DIR]
#       [--spate-bin PATH] [--spate-options "'k'='v', ..."]
#
# See Benchmarks/scripts/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

ROWS=10000000
RUNS=5
THREADS=2
SEED=42
ENGINES=spate,duckdb,polars
QUERIES=q1,q2,parse
KEEP=
OUT=
SPATE_BIN=
SPATE_OPTIONS=

die() { echo "compare.sh: error: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --engines) ENGINES=${2:?}; shift 2 ;;
    --queries) QUERIES=${2:?}; shift 2 ;;
    --keep) KEEP=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --spate-bin) SPATE_BIN=${2:?}; shift 2 ;;
    --spate-options) SPATE_OPTIONS=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$ROWS" =~ ^[0-9]+$ && "$ROWS" -gt 0 ]] || die "--rows must be a positive integer"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -gt 0 ]] || die "--runs must be a positive integer"
[[ "$THREADS" =~ ^[0-9]+$ && "$THREADS" -gt 0 ]] || die "--threads must be a positive integer"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"

IFS=, read -r -a ENGINE_LIST <<<"$ENGINES"
for e in "${ENGINE_LIST[@]}"; do
  case "$e" in spate|duckdb|polars) ;; *) die "unknown engine '$e' (spate, duckdb, polars)" ;; esac
done
IFS=, read -r -a QUERY_LIST <<<"$QUERIES"
for q in "${QUERY_LIST[@]}"; do
  case "$q" in q1|q2|parse) ;; *) die "unknown query '$q' (q1, q2, parse)" ;; esac
done
has_engine() { [[ ",$ENGINES," == *",$1,"* ]]; }

# ---------------------------------------------------------------------------------
# tools

source "$SCRIPT_DIR/common.sh"
ensure_gnu_time
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "python3 not found (set PYTHON=...)"

# ---------------------------------------------------------------------------------
# work directory

make_work_dir spate-compare
mkdir -p "$WORK/out"
if [[ -n "$OUT" ]]; then
  mkdir -p -- "$OUT" || die "cannot create --out directory $OUT"
  OUT=$(cd -- "$OUT" && pwd)
fi

# Spate
SPATE_REV=
has_engine spate && build_spate

# Python venv with numpy (generator) and the engines
PKGS=(numpy)
has_engine duckdb && PKGS+=(duckdb)
has_engine polars && PKGS+=(polars)
make_venv "${PKGS[@]}"
ENGINES_PY=$SCRIPT_DIR/engines.py
make_bids
BYTES=$(stat -c %s "$BIDS")

# ---------------------------------------------------------------------------------
# queries for Spate (Flink SQL)

sql_quote() { printf "%s" "${1//\'/\'\'}"; }
SPATE_WITH="'connector'='filesystem', 'path'='$(sql_quote "$BIDS")', 'format'='csv'"
[[ -n "$SPATE_OPTIONS" ]] && SPATE_WITH="$SPATE_WITH, $SPATE_OPTIONS"
DDL="CREATE TABLE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ($SPATE_WITH);"
cat >"$WORK/q1.sql" <<EOF
$DDL
SELECT COUNT(*) AS n FROM bids WHERE price > 500000 AND channel = 'Google';
EOF
cat >"$WORK/q2.sql" <<EOF
$DDL
SELECT window_start, window_end, auction, COUNT(*) AS bids, SUM(price) AS total, MAX(price) AS max_price
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, auction;
EOF
cat >"$WORK/parse.sql" <<EOF
$DDL
SELECT COUNT(*) AS n, SUM(auction) AS sum_auction, SUM(bidder) AS sum_bidder, SUM(price) AS sum_price,
  MAX(ts) AS max_ts, COUNT(channel) AS n_channel, COUNT(url) AS n_url FROM bids;
EOF

# ---------------------------------------------------------------------------------
# running

# threads for a query: the parse-rate query runs single-threaded
threads_for() { if [[ "$1" == parse ]]; then echo 1; else echo "$THREADS"; fi; }

# run_engine ENGINE QUERY OUTFILE -> runs the command under GNU time; prints "secs rss_kb cpu_secs"
run_engine() {
  local eng=$1 q=$2 out=$3 thr tf t0 t1 rc=0
  thr=$(threads_for "$q")
  tf=$WORK/time.txt
  rm -f -- "$out"
  t0=$(date +%s%N)
  case "$eng" in
    spate)  /usr/bin/time -f '%e %M %U %S' -o "$tf" "$SPATE_BIN" sql -f "$WORK/$q.sql" --workers "$thr" -o "$out" \
              >"$WORK/last.log" 2>&1 || rc=$? ;;
    duckdb) /usr/bin/time -f '%e %M %U %S' -o "$tf" "$PY" "$ENGINES_PY" run duckdb "$q" "$BIDS" "$out" "$thr" \
              >"$WORK/last.log" 2>&1 || rc=$? ;;
    polars) POLARS_MAX_THREADS=$thr /usr/bin/time -f '%e %M %U %S' -o "$tf" "$PY" "$ENGINES_PY" run polars "$q" "$BIDS" "$out" "$thr" \
              >"$WORK/last.log" 2>&1 || rc=$? ;;
  esac
  t1=$(date +%s%N)
  if [[ $rc -ne 0 || ! -f "$out" ]]; then
    echo "compare.sh: $eng failed on $q (exit $rc); output:" >&2
    tail -n 20 "$WORK/last.log" | sed 's/^/    /' >&2
    return 1
  fi
  # wall time from the clock (ns resolution); peak RSS (KB) from GNU time's last line
  echo "$(( (t1 - t0) / 1000000 ))" "$(tail -n 1 "$tf")" \
    | awk '{printf "%.3f %d %.2f\n", $1 / 1000.0, $3, $4 + $5}'
}

warm_cache() { cat -- "$BIDS" >/dev/null; }

TSV=$WORK/timings.tsv
: >"$TSV"
STATUS=0
declare -A FAILED=()

for q in "${QUERY_LIST[@]}"; do
  thr=$(threads_for "$q")
  log "query $q ($thr thread(s)): warming page cache, one untimed run per engine"
  warm_cache
  ref= ref_status=unchecked
  for e in "${ENGINE_LIST[@]}"; do
    if ! run_engine "$e" "$q" "$WORK/out/${e}_$q.csv" >/dev/null; then
      FAILED[$e.$q]=1; STATUS=1
      echo "status $q $e FAILED" >>"$TSV"
      continue
    fi
    if [[ -z "$ref" ]]; then
      ref=$e   # every other engine's result is compared with this one's
    elif "$PY" "$ENGINES_PY" compare "$q" "$ref" "$WORK/out/${ref}_$q.csv" "$e" "$WORK/out/${e}_$q.csv" >&2; then
      echo "status $q $e ok" >>"$TSV"
      [[ $ref_status == unchecked ]] && ref_status=ok
    else
      echo "status $q $e MISMATCH-vs-$ref" >>"$TSV"
      ref_status=MISMATCH; STATUS=1
    fi
  done
  [[ -n "$ref" ]] && echo "status $q $ref $ref_status" >>"$TSV"
  n=${#ENGINE_LIST[@]}
  for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < n; k++)); do
      e=${ENGINE_LIST[$(( (r + k) % n ))]}   # rotate the order run by run
      [[ -n "${FAILED[$e.$q]:-}" ]] && continue
      if res=$(run_engine "$e" "$q" "$WORK/out/${e}_$q.run.csv"); then
        echo "$q $e $thr $res" >>"$TSV"
        read -r secs rss cpu <<<"$res"
        echo "   $q run $((r + 1))/$RUNS $e: $secs s, $rss KB, $cpu s CPU" >&2
      else
        FAILED[$e.$q]=1; STATUS=1
      fi
    done
  done
done

# ---------------------------------------------------------------------------------
# report

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
meta=(--meta "machine=${cpu_model:-unknown}, $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Core(s) per socket:[[:space:]]*//p' | head -n 1) cores/socket, $(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core:[[:space:]]*//p' | head -n 1) threads/core), $(free -g | awk '/^Mem:/{print $2}') GiB, Linux $(uname -r)")
vers=()
has_engine spate && vers+=("Spate $SPATE_REV")
has_engine duckdb && vers+=("DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)')")
has_engine polars && vers+=("Polars $("$PY" -c 'import polars; print(polars.__version__)') (${POLARS_ENGINE:-streaming} engine)")
meta+=(--meta "versions=$(IFS=,; echo "${vers[*]}" | sed 's/,/, /g'), Python $("$PY" -c 'import platform; print(platform.python_version())')")
meta+=(--meta "date=$(date -u +%Y-%m-%dT%H:%MZ)")
# interpreter start-up is part of DuckDB's/Polars' wall time: measure it once
startup=()
for e in duckdb polars; do
  has_engine "$e" || continue
  s=$( { /usr/bin/time -f '%e' "$PY" -c "import $e" ; } 2>&1 | tail -n 1)
  startup+=("$e ${s}s")
done
[[ ${#startup[@]} -gt 0 ]] && meta+=(--meta "python start-up + import (included in times)=$(IFS=,; echo "${startup[*]}" | sed 's/,/, /g')")

table=$("$PY" "$ENGINES_PY" report "$TSV" --rows "$ROWS" --bytes "$BYTES" --threads "$THREADS" "${meta[@]}")
echo
echo "$table"
if [[ -n "$OUT" ]]; then
  echo "$table" >"$OUT/results.md"
  cp -- "$TSV" "$OUT/timings.tsv"
  log "wrote $OUT/results.md"
fi
if [[ $STATUS -ne 0 ]]; then
  echo "compare.sh: FAILED: a result mismatch or an engine failure (see above)" >&2
  exit 1
fi
