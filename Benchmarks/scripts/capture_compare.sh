#!/usr/bin/env bash
# Capture files (format 'spate') against zstd Parquet, side by side in one run:
#
#   Benchmarks/scripts/capture_compare.sh [--rows N] [--runs 5] [--threads 2] [--seed 42]
#       [--keep DIR] [--out DIR] [--spate-bin PATH]
#
# 1. convert: `spate convert bids.csv bids.spate` vs DuckDB `COPY (SELECT * FROM
#    read_csv(...)) TO 'bids.parquet' (FORMAT parquet, COMPRESSION zstd)`; sizes too.
# 2. q2: the 10 s tumble per auction (count, sum, max of price) by Spate over the
#    capture file vs DuckDB and Polars over the Parquet file.
# 3. read2: COUNT(*), SUM(auction), SUM(price) (two int64 columns) by Spate over the
#    capture file vs DuckDB over the Parquet file; rows/s.
# Every result is checked equal across engines (Benchmarks/scripts/engines.py compare).
# See Benchmarks/scripts/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)

ROWS=10000000
RUNS=5
THREADS=2
SEED=42
KEEP=
OUT=
SPATE_BIN=

die() { echo "capture_compare.sh: error: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
usage() { sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
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
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "python3 not found (set PYTHON=...)"

source "$SCRIPT_DIR/common.sh"
ensure_gnu_time
make_work_dir spate-capture
mkdir -p "$WORK/out"
build_spate
make_venv numpy duckdb polars
ENGINES_PY=$SCRIPT_DIR/engines.py
make_bids
CAPTURE=$WORK/bids.spate
PARQUET=$WORK/bids.parquet
SCHEMA="auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)"

# DuckDB / Polars side, one process per run (imports are part of the time, as Spate's
# process start is part of its own).
HELPER=$WORK/capture_engines.py
cat >"$HELPER" <<'PYEOF'
import os, sys
engine, job, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
args = sys.argv[4:]
if engine == "duckdb":
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads=%d" % threads)
    q = lambda p: p.replace("'", "''")
    if job == "convert":
        csv, parquet = args
        cols = "{'auction': 'BIGINT', 'bidder': 'BIGINT', 'price': 'BIGINT', 'channel': 'VARCHAR', 'url': 'VARCHAR', 'ts': 'BIGINT'}"
        con.execute("COPY (SELECT * FROM read_csv('%s', header=true, delim=',', quote='\"', auto_detect=false, columns=%s)) "
                    "TO '%s' (FORMAT parquet, COMPRESSION zstd)" % (q(csv), cols, q(parquet)))
    else:
        parquet, out = args
        sql = {
            "q2": "SELECT ts - ts % 10000 AS window_start, ts - ts % 10000 + 10000 AS window_end, auction, "
                  "COUNT(*) AS bids, SUM(price) AS total, MAX(price) AS max_price FROM bids GROUP BY ALL",
            "read2": "SELECT COUNT(*) AS n, SUM(auction) AS sum_auction, SUM(price) AS sum_price FROM bids",
            "all": "SELECT COUNT(*) AS n, SUM(auction) AS sum_auction, SUM(bidder) AS sum_bidder, SUM(price) AS sum_price, "
                   "MIN(ts) AS min_ts, MAX(ts) AS max_ts, COUNT(channel) AS n_channel, COUNT(url) AS n_url FROM bids",
            "strings": "SELECT channel, url, COUNT(*) AS n, SUM(price) AS total, SUM(bidder) AS bidders, MAX(ts) AS max_ts "
                       "FROM bids GROUP BY channel, url",
        }[job]
        con.execute("CREATE VIEW bids AS SELECT * FROM read_parquet('%s')" % q(parquet))
        con.execute("COPY (%s) TO '%s' (FORMAT csv, HEADER true)" % (sql, q(out)))
else:
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl
    parquet, out = args
    c = pl.col
    lf = pl.scan_parquet(parquet)
    if job == "q2":
        ws = c("ts") - c("ts") % 10000
        lf = (lf.group_by(ws.alias("window_start"), c("auction"))
              .agg(pl.len().alias("bids"), c("price").sum().alias("total"), c("price").max().alias("max_price"))
              .select("window_start", (c("window_start") + 10000).alias("window_end"), "auction", "bids", "total", "max_price"))
    elif job == "read2":
        lf = lf.select(pl.len().alias("n"), c("auction").sum().alias("sum_auction"), c("price").sum().alias("sum_price"))
    lf.collect(engine=os.environ.get("POLARS_ENGINE", "streaming")).write_csv(out)
PYEOF

sql_quote() { printf "%s" "${1//\'/\'\'}"; }
DDL="CREATE TABLE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('path' = '$(sql_quote "$CAPTURE")');"
cat >"$WORK/q2.sql" <<EOF
$DDL
SELECT window_start, window_end, auction, COUNT(*) AS bids, SUM(price) AS total, MAX(price) AS max_price
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, auction;
EOF
cat >"$WORK/read2.sql" <<EOF
$DDL
SELECT COUNT(*) AS n, SUM(auction) AS sum_auction, SUM(price) AS sum_price FROM bids;
EOF
cat >"$WORK/all.sql" <<EOF
$DDL
SELECT COUNT(*) AS n, SUM(auction) AS sum_auction, SUM(bidder) AS sum_bidder, SUM(price) AS sum_price,
  MIN(ts) AS min_ts, MAX(ts) AS max_ts, COUNT(channel) AS n_channel, COUNT(url) AS n_url FROM bids;
EOF
cat >"$WORK/strings.sql" <<EOF
$DDL
SELECT channel, url, COUNT(*) AS n, SUM(price) AS total, SUM(bidder) AS bidders, MAX(ts) AS max_ts
FROM bids GROUP BY channel, url;
EOF

# run NAME JOB ENGINE -> prints "secs rss_kb"; the command's stdout/stderr go to last.log
run() {
  local job=$1 eng=$2 out=$WORK/out/${2}_$1.csv t0 t1 rc=0
  local tf=$WORK/time.txt
  t0=$(date +%s%N)
  case "$eng.$job" in
    spate.convert) /usr/bin/time -f '%M' -o "$tf" "$SPATE_BIN" convert "$BIDS" "$CAPTURE" --schema "$SCHEMA" \
                     --workers "$THREADS" -q >"$WORK/last.log" 2>&1 || rc=$? ;;
    duckdb.convert) /usr/bin/time -f '%M' -o "$tf" "$PY" "$HELPER" duckdb convert "$THREADS" "$BIDS" "$PARQUET" \
                     >"$WORK/last.log" 2>&1 || rc=$? ;;
    spate.*) /usr/bin/time -f '%M' -o "$tf" "$SPATE_BIN" sql -f "$WORK/$job.sql" --workers "$THREADS" -o "$out" \
               >"$WORK/last.log" 2>&1 || rc=$? ;;
    duckdb.*|polars.*) POLARS_MAX_THREADS=$THREADS /usr/bin/time -f '%M' -o "$tf" "$PY" "$HELPER" "$eng" "$job" "$THREADS" \
               "$PARQUET" "$out" >"$WORK/last.log" 2>&1 || rc=$? ;;
  esac
  t1=$(date +%s%N)
  if [[ $rc -ne 0 ]]; then
    echo "capture_compare.sh: $eng failed on $job (exit $rc):" >&2
    tail -n 20 "$WORK/last.log" | sed 's/^/    /' >&2
    exit 1
  fi
  echo "$(( (t1 - t0) / 1000000 )) $(tail -n 1 "$tf")" | awk '{printf "%.3f %d\n", $1 / 1000.0, $2}'
}

TSV=$WORK/capture_timings.tsv
: >"$TSV"
timed() {  # timed JOB ENGINE...: one untimed run each, then RUNS rounds, order rotated
  local job=$1; shift
  local engines=("$@") n=$# r k e res
  cat -- "$BIDS" >/dev/null
  [[ -f "$CAPTURE" ]] && cat -- "$CAPTURE" >/dev/null
  [[ -f "$PARQUET" ]] && cat -- "$PARQUET" >/dev/null
  for e in "${engines[@]}"; do run "$job" "$e" >/dev/null; done
  for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < n; k++)); do
      e=${engines[$(( (r + k) % n ))]}
      res=$(run "$job" "$e")
      echo "$job $e $res" >>"$TSV"
      echo "   $job run $((r + 1))/$RUNS $e: $res" >&2
    done
  done
}

check() {  # check JOB A B: results of A and B equal (normalised, sorted)
  "$PY" "$ENGINES_PY" compare "$1" "$2" "$WORK/out/${2}_$1.csv" "$3" "$WORK/out/${3}_$1.csv" >&2 || STATUS=1
}
STATUS=0

log "convert: CSV -> capture file (spate) and CSV -> zstd Parquet (DuckDB), $THREADS threads"
timed convert spate duckdb
CAPTURE_BYTES=$(stat -c %s "$CAPTURE")
PARQUET_BYTES=$(stat -c %s "$PARQUET")
log "same contents: every column summarised, and rows per (channel, url) with sums, over the capture file (Spate) and the Parquet file (DuckDB)"
for job in all strings; do
  run $job spate >/dev/null
  run $job duckdb >/dev/null
  check $job spate duckdb
done

log "q2 over the capture file (Spate) and the Parquet file (DuckDB, Polars)"
timed q2 spate duckdb polars
check q2 spate duckdb
check q2 spate polars

log "read2: two int64 columns"
timed read2 spate duckdb polars
check read2 spate duckdb
check read2 spate polars
# Spate's own reading time (inside the process), for the rows/s figure.
INNER=()
for ((r = 0; r < RUNS; r++)); do
  INNER+=("$("$SPATE_BIN" sql -f "$WORK/read2.sql" --workers "$THREADS" --stats -o /dev/null 2>&1 \
    | sed -n 's/.* in \([0-9.]*\) s (.*/\1/p')")
done

"$PY" - "$TSV" "$ROWS" "$(stat -L -c %s "$BIDS")" "$CAPTURE_BYTES" "$PARQUET_BYTES" "$THREADS" "${INNER[*]}" \
  "$SPATE_REV" "$("$PY" -c 'import duckdb; print(duckdb.__version__)')" "$("$PY" -c 'import polars; print(polars.__version__)')" \
  >"$WORK/capture_results.md" <<'PYEOF'
import statistics, sys
tsv, rows, csv_bytes, cap, parq, threads, inner, rev, dv, pv = sys.argv[1:]
rows, csv_bytes, cap, parq, threads = int(rows), int(csv_bytes), int(cap), int(parq), int(threads)
data = {}
for line in open(tsv):
    job, eng, secs, rss = line.split()
    data.setdefault(job, {}).setdefault(eng, []).append((float(secs), int(rss)))
label = {"spate": "Spate (capture file)", "duckdb": "DuckDB (Parquet)", "polars": "Polars (Parquet)"}
out = ["- Spate %s, DuckDB %s, Polars %s; %d threads; %d rows, CSV %.1f MB" % (rev, dv, pv, threads, rows, csv_bytes / 1e6),
       "- capture file %.1f MB, zstd Parquet %.1f MB (capture / Parquet = %.2f)" % (cap / 1e6, parq / 1e6, cap / parq), "",
       "| job | engine | median s | min s | max s | peak RSS MB | other / Spate |", "|---|---|---:|---:|---:|---:|---:|"]
med = {}
for job in ("convert", "q2", "read2"):
    for eng in ("spate", "duckdb", "polars"):
        if eng in data.get(job, {}):
            runs = data[job][eng]
            med[(job, eng)] = statistics.median(r[0] for r in runs)
    for eng in ("spate", "duckdb", "polars"):
        if (job, eng) not in med:
            continue
        runs = data[job][eng]
        out.append("| %s | %s | %.3f | %.3f | %.3f | %.0f | %.2fx |" % (
            job, label[eng], med[(job, eng)], min(r[0] for r in runs), max(r[0] for r in runs),
            max(r[1] for r in runs) / 1024, med[(job, eng)] / med[(job, "spate")]))
inner_s = [float(x) for x in inner.split()] if inner.strip() else []
out.append("")
out.append("Targets:")
out.append("- convert at least 3x faster than DuckDB to zstd Parquet: %.2fx; capture file no larger than the Parquet file: %s" % (
    med[("convert", "duckdb")] / med[("convert", "spate")], "yes" if cap <= parq else "NO"))
fastest = min(med[("q2", "duckdb")], med[("q2", "polars")])
out.append("- Q2 at least 2x faster than the fastest of DuckDB and Polars over Parquet: %.2fx" % (fastest / med[("q2", "spate")]))
line = "- two int64 columns at least 1G rows/s: %.2f G rows/s for the whole command (median %.3f s)" % (
    rows / med[("read2", "spate")] / 1e9, med[("read2", "spate")])
if inner_s:
    line += ", %.2f G rows/s inside the engine (median %.3f s of `--stats` time)" % (rows / statistics.median(inner_s) / 1e9, statistics.median(inner_s))
out.append(line)
out.append("")
out.append("Wall time of whole commands (process start, Python imports, reading, writing the result), %d timed runs each "
           "after one untimed warm-up run, engines alternated run by run, files in the page cache. "
           "'other / Spate' > 1 means Spate is faster." % len(next(iter(data["convert"].values()))))
print("\n".join(out))
PYEOF
echo
cat "$WORK/capture_results.md"
if [[ -n "$OUT" ]]; then
  mkdir -p -- "$OUT" && cp -- "$WORK/capture_results.md" "$TSV" "$OUT/"
fi
if [[ $STATUS -ne 0 ]]; then
  echo "capture_compare.sh: FAILED: results differ (see above)" >&2
  exit 1
fi
