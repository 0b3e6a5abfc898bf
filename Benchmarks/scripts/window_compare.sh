#!/usr/bin/env bash
# Window targets side by side in one run: Spate vs DuckDB, Polars and chDB on the
# generated bids (gen_bids.py), over CSV and (Spate: its capture file; the others:
# zstd Parquet converted once beforehand), results checked equal.
#
#   Benchmarks/scripts/window_compare.sh [--rows 10000000] [--runs 5] [--threads 2] [--seed 42]
#       [--engines spate,duckdb,polars,chdb] [--queries hop,session,maxbid] [--formats csv,binary]
#       [--keep DIR] [--out DIR] [--spate-bin PATH]
#
# hop: HOP 60 s sliding every 10 s per auction, count and avg price; session: SESSION
# per bidder with a 30 s gap, count and sum price; maxbid: the highest bids of each
# 10 s window (Nexmark q7). See Benchmarks/scripts/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

ROWS=10000000
RUNS=5
THREADS=2
SEED=42
ENGINES=spate,duckdb,polars,chdb
QUERIES=hop,session,maxbid
FORMATS=csv,binary
KEEP=
OUT=
SPATE_BIN=

die() { echo "window_compare.sh: error: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --engines) ENGINES=${2:?}; shift 2 ;;
    --queries) QUERIES=${2:?}; shift 2 ;;
    --formats) FORMATS=${2:?}; shift 2 ;;
    --keep) KEEP=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --spate-bin) SPATE_BIN=${2:?}; shift 2 ;;
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
  case "$e" in spate|duckdb|polars|chdb) ;; *) die "unknown engine '$e' (spate, duckdb, polars, chdb)" ;; esac
done
IFS=, read -r -a QUERY_LIST <<<"$QUERIES"
for q in "${QUERY_LIST[@]}"; do
  case "$q" in hop|session|maxbid) ;; *) die "unknown query '$q' (hop, session, maxbid)" ;; esac
done
IFS=, read -r -a FORMAT_LIST <<<"$FORMATS"
for f in "${FORMAT_LIST[@]}"; do
  case "$f" in csv|binary) ;; *) die "unknown format '$f' (csv, binary)" ;; esac
done
has_engine() { [[ ",$ENGINES," == *",$1,"* ]]; }
has_format() { [[ ",$FORMATS," == *",$1,"* ]]; }
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "python3 not found (set PYTHON=...)"

# ---------------------------------------------------------------------------------
# set-up: work directory, Spate, venv, data

source "$SCRIPT_DIR/common.sh"
ensure_gnu_time
make_work_dir spate-window
mkdir -p "$WORK/out"
if [[ -n "$OUT" ]]; then
  mkdir -p -- "$OUT" || die "cannot create --out directory $OUT"
  OUT=$(cd -- "$OUT" && pwd)
fi
SPATE_REV=
has_engine spate && build_spate
make_venv numpy duckdb polars
NOTES=()
if has_engine chdb && ! venv_try_install chdb; then
  msg="chdb could not be installed (pip install chdb failed: $(tail -n 1 "$WORK/pip-chdb.log" 2>/dev/null)); continuing without it"
  echo "window_compare.sh: $msg" >&2
  NOTES+=("$msg")
  ENGINE_LIST=("${ENGINE_LIST[@]/chdb}")
  ENGINES=$(IFS=,; echo "${ENGINE_LIST[*]}" | sed 's/,,*/,/g; s/^,//; s/,$//')
  IFS=, read -r -a ENGINE_LIST <<<"$ENGINES"
fi
[[ ${#ENGINE_LIST[@]} -gt 0 ]] || die "no engine left to run"
HELPER=$SCRIPT_DIR/window_engines.py
make_bids
BYTES=$(stat -c %s "$BIDS")

STEM=${BIDS%.csv}
PARQUET=$STEM.parquet
CAPTURE=$STEM.spate
if has_format binary; then
  if [[ ! -s "$PARQUET" ]] && { has_engine duckdb || has_engine polars || has_engine chdb; }; then
    log "converting the CSV to zstd Parquet once (DuckDB)"
    "$PY" - "$BIDS" "$PARQUET.tmp" "$THREADS" <<'PYEOF' || die "Parquet conversion failed"
import sys, duckdb
csv, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute("SET threads=%d" % threads)
q = lambda p: p.replace("'", "''")
con.execute("COPY (SELECT * FROM read_csv('%s', header=true, delim=',', quote='\"', auto_detect=false, "
            "columns={'auction': 'BIGINT', 'bidder': 'BIGINT', 'price': 'BIGINT', 'channel': 'VARCHAR', "
            "'url': 'VARCHAR', 'ts': 'BIGINT'})) TO '%s' (FORMAT parquet, COMPRESSION zstd)" % (q(csv), q(out)))
PYEOF
    mv -- "$PARQUET.tmp" "$PARQUET"
  fi
  if [[ ! -s "$CAPTURE" ]] && has_engine spate; then
    log "converting the CSV to a capture file once (spate convert)"
    "$SPATE_BIN" convert "$BIDS" "$CAPTURE.tmp.spate" --workers "$THREADS" -q \
      --schema "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)" \
      || die "spate convert failed"
    mv -- "$CAPTURE.tmp.spate" "$CAPTURE"
  fi
fi

# ---------------------------------------------------------------------------------
# Spate's SQL (Flink syntax), per input

sql_quote() { printf "%s" "${1//\'/\'\'}"; }
COLS="auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND"
ddl() {  # ddl FORMAT PATH
  if [[ $1 == csv ]]; then
    echo "CREATE TABLE bids ($COLS) WITH ('connector' = 'filesystem', 'path' = '$(sql_quote "$2")', 'format' = 'csv');"
  else
    echo "CREATE TABLE bids ($COLS) WITH ('connector' = 'filesystem', 'path' = '$(sql_quote "$2")', 'format' = 'spate');"
  fi
}
TUMBLE10="TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
spate_query() {  # spate_query QUERY [maxbid form]
  case "$1" in
    hop) cat <<EOF
SELECT window_start, window_end, auction, COUNT(*) AS bids, AVG(price) AS avg_price
FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '60' SECOND))
GROUP BY window_start, window_end, auction;
EOF
    ;;
    session) cat <<EOF
SELECT window_start, window_end, bidder, COUNT(*) AS bids, SUM(price) AS total
FROM TABLE(SESSION(TABLE bids PARTITION BY bidder, DESCRIPTOR(ts), INTERVAL '30' SECOND))
GROUP BY window_start, window_end, bidder;
EOF
    ;;
    maxbid)
      if [[ $2 == join ]]; then cat <<EOF
SELECT L.window_start AS window_start, L.window_end AS window_end, L.auction AS auction,
  L.bidder AS bidder, L.price AS price
FROM (SELECT * FROM $TUMBLE10) L
JOIN (SELECT window_start, window_end, MAX(price) AS maxprice FROM $TUMBLE10
      GROUP BY window_start, window_end) R
ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.price = R.maxprice;
EOF
      else cat <<EOF
SELECT window_start, window_end, auction, bidder, price FROM (
  SELECT window_start, window_end, auction, bidder, price,
    ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum
  FROM $TUMBLE10
) WHERE rownum <= 1;
EOF
      fi
    ;;
  esac
}

# maxbid: the join with the windows' max has the others' semantics (every bid at the
# maximum); the top-1 form keeps one of equal bids. Use the first form Spate runs,
# tried on the first 20000 bids.
MAXBID_FORM=
if has_engine spate && [[ ",$QUERIES," == *",maxbid,"* ]]; then
  head -n 20001 -- "$BIDS" >"$WORK/maxbid_probe.csv"
  for form in join topn; do
    { ddl csv "$WORK/maxbid_probe.csv"; spate_query maxbid "$form"; } >"$WORK/maxbid_probe_$form.sql"
    if "$SPATE_BIN" sql -f "$WORK/maxbid_probe_$form.sql" --workers 1 -o "$WORK/maxbid_probe_$form.out.csv" \
         >"$WORK/maxbid_probe_$form.log" 2>&1; then
      MAXBID_FORM=$form
      break
    fi
  done
  if [[ -n "$MAXBID_FORM" ]]; then
    log "maxbid: Spate runs the $MAXBID_FORM form"
  else
    log "maxbid: Spate supports neither form (join, top-N); see $WORK/maxbid_probe_*.log"
  fi
fi
for q in "${QUERY_LIST[@]}"; do
  form=${MAXBID_FORM:-join}
  { ddl csv "$BIDS"; spate_query "$q" "$form"; } >"$WORK/${q}_csv.sql"
  { ddl capture "$CAPTURE"; spate_query "$q" "$form"; } >"$WORK/${q}_capture.sql"
done

# ---------------------------------------------------------------------------------
# running

input_of() {  # input_of FORMAT
  case "$1" in csv) echo "$BIDS" ;; parquet) echo "$PARQUET" ;; capture) echo "$CAPTURE" ;; esac
}

# run_engine ENGINE QUERY FORMAT OUT -> prints "secs rss_kb cpu_secs"; the command's
# output goes to WORK/last.log; returns the command's exit code
run_engine() {
  local eng=$1 q=$2 fmt=$3 out=$4 tf=$WORK/time.txt t0 t1 rc=0
  rm -f -- "$out"
  t0=$(date +%s%N)
  if [[ $eng == spate ]]; then
    /usr/bin/time -f '%e %M %U %S' -o "$tf" "$SPATE_BIN" sql -f "$WORK/${q}_$fmt.sql" --workers "$THREADS" \
      -o "$out" >"$WORK/last.log" 2>&1 || rc=$?
  else
    POLARS_MAX_THREADS=$THREADS /usr/bin/time -f '%e %M %U %S' -o "$tf" "$PY" "$HELPER" run "$eng" "$q" "$fmt" \
      "$(input_of "$fmt")" "$out" "$THREADS" >"$WORK/last.log" 2>&1 || rc=$?
  fi
  t1=$(date +%s%N)
  [[ $rc -eq 0 && ! -f "$out" ]] && rc=1
  [[ $rc -ne 0 ]] && return "$rc"
  echo "$(( (t1 - t0) / 1000000 ))" "$(tail -n 1 "$tf")" \
    | awk '{printf "%.3f %d %.2f\n", $1 / 1000.0, $3, $4 + $5}'
}

TSV=$WORK/window_timings.tsv
: >"$TSV"
STATUS=0
declare -A FAILED=() REF=()

for q in "${QUERY_LIST[@]}"; do
  for cls in "${FORMAT_LIST[@]}"; do
    combos=()
    for e in "${ENGINE_LIST[@]}"; do
      if [[ $cls == csv ]]; then combos+=("$e:csv")
      elif [[ $e == spate ]]; then combos+=("spate:capture")
      else combos+=("$e:parquet"); fi
    done
    log "$q over ${cls/binary/binary files (Spate: capture file; others: Parquet)}: warming the page cache, one untimed run each"
    for c in "${combos[@]}"; do cat -- "$(input_of "${c#*:}")" >/dev/null; done
    for c in "${combos[@]}"; do
      e=${c%%:*} f=${c#*:}
      out=$WORK/out/${e}_${q}_$f.csv
      rc=0
      run_engine "$e" "$q" "$f" "$out" >/dev/null || rc=$?
      if [[ $rc -ne 0 ]]; then
        FAILED[$c.$q]=1
        err=$(grep -i -m 1 'error' "$WORK/last.log" | sed 's/^.*\.sql:[0-9]*:[0-9]*: //; s/^error: //' | tr '\t' ' ' || true)
        [[ -z "$err" ]] && err=$(tail -n 1 "$WORK/last.log" | tr '\t' ' ')
        if [[ $e == spate && $rc -eq 64 ]]; then
          printf 'status\t%s\t%s\t%s\tUNSUPPORTED\t%s\n' "$q" "$f" "$e" "$err" >>"$TSV"
          echo "   $q $e ($f): not supported: $err" >&2
        else
          STATUS=1
          printf 'status\t%s\t%s\t%s\tFAILED\texit %s: %s\n' "$q" "$f" "$e" "$rc" "$err" >>"$TSV"
          echo "window_compare.sh: $e failed on $q over $f (exit $rc):" >&2
          tail -n 20 "$WORK/last.log" | sed 's/^/    /' >&2
        fi
        continue
      fi
      if [[ -z "${REF[$q]:-}" ]]; then
        REF[$q]=$c   # every other result of this query is compared with this one
        printf 'status\t%s\t%s\t%s\treference\n' "$q" "$f" "$e" >>"$TSV"
      else
        r=${REF[$q]}
        if "$PY" "$HELPER" compare "$q" "${r/:/ over }" "$WORK/out/${r%%:*}_${q}_${r#*:}.csv" \
             "${c/:/ over }" "$out" >&2; then
          printf 'status\t%s\t%s\t%s\tok\n' "$q" "$f" "$e" >>"$TSV"
        else
          printf 'status\t%s\t%s\t%s\tMISMATCH-vs-%s\n' "$q" "$f" "$e" "${r/:/-}" >>"$TSV"
          STATUS=1
        fi
      fi
    done
    n=${#combos[@]}
    for ((r = 0; r < RUNS; r++)); do
      for ((k = 0; k < n; k++)); do
        c=${combos[$(( (r + k) % n ))]}   # rotate the order run by run
        [[ -n "${FAILED[$c.$q]:-}" ]] && continue
        e=${c%%:*} f=${c#*:}
        if res=$(run_engine "$e" "$q" "$f" "$WORK/out/${e}_${q}_$f.run.csv"); then
          read -r secs rss cpu <<<"$res"
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$f" "$e" "$THREADS" "$secs" "$rss" "$cpu" >>"$TSV"
          echo "   $q run $((r + 1))/$RUNS $e ($f): $secs s, $rss KB, $cpu s CPU" >&2
        else
          echo "window_compare.sh: $e failed on $q over $f in a timed run" >&2
          tail -n 20 "$WORK/last.log" | sed 's/^/    /' >&2
          FAILED[$c.$q]=1; STATUS=1
        fi
      done
    done
    rm -f -- "$WORK"/out/*.run.csv
  done
done

# ---------------------------------------------------------------------------------
# report

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
meta=(--meta "machine=${cpu_model:-unknown}, $(nproc) CPUs, $(free -g | awk '/^Mem:/{print $2}') GiB, Linux $(uname -r)")
vers=()
has_engine spate && vers+=("Spate $SPATE_REV")
vers+=("DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)')")
vers+=("Polars $("$PY" -c 'import polars; print(polars.__version__)') (${POLARS_ENGINE:-streaming} engine)")
has_engine chdb && vers+=("chDB $("$PY" -c 'import chdb; print(chdb.__version__)')")
meta+=(--meta "versions=$(IFS=,; echo "${vers[*]}" | sed 's/,/, /g'), Python $("$PY" -c 'import platform; print(platform.python_version())')")
meta+=(--meta "date=$(date -u +%Y-%m-%dT%H:%MZ)")
if [[ ",$QUERIES," == *",maxbid,"* ]] && has_engine spate; then
  meta+=(--meta "maxbid in Spate=${MAXBID_FORM:-neither form runs yet} (join: bids JOIN the windows' MAX(price) on window and price; topn: ROW_NUMBER() ... <= 1)")
fi
for n in "${NOTES[@]}"; do meta+=(--meta "note=$n"); done
startup=()
for e in duckdb polars chdb; do
  has_engine "$e" || continue
  s=$( { /usr/bin/time -f '%e' "$PY" -c "import $e" ; } 2>&1 | tail -n 1)
  startup+=("$e ${s}s")
done
[[ ${#startup[@]} -gt 0 ]] && meta+=(--meta "python start-up + import (included in times)=$(IFS=,; echo "${startup[*]}" | sed 's/,/, /g')")
if has_format binary; then
  sizes=()
  [[ -f "$PARQUET" ]] && sizes+=("zstd Parquet $(( $(stat -c %s "$PARQUET") / 1000000 )) MB")
  [[ -f "$CAPTURE" ]] && sizes+=("capture file $(( $(stat -c %s "$CAPTURE") / 1000000 )) MB")
  [[ ${#sizes[@]} -gt 0 ]] && meta+=(--meta "binary inputs=$(IFS=,; echo "${sizes[*]}" | sed 's/,/, /g')")
fi

table=$("$PY" "$HELPER" report "$TSV" --rows "$ROWS" --bytes "$BYTES" --threads "$THREADS" "${meta[@]}")
echo
echo "$table"
if [[ -n "$OUT" ]]; then
  echo "$table" >"$OUT/window_results.md"
  cp -- "$TSV" "$OUT/window_timings.tsv"
  log "wrote $OUT/window_results.md"
fi
if [[ $STATUS -ne 0 ]]; then
  echo "window_compare.sh: FAILED: a result mismatch or an engine failure (see above)" >&2
  exit 1
fi
