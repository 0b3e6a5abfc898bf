#!/usr/bin/env python3
"""Helpers for compare.sh: run a query on DuckDB or Polars, check results, report.

    engines.py run {duckdb|polars} {q1|q2|parse} BIDS.csv OUT.csv THREADS
    engines.py compare QUERY NAME_A A.csv NAME_B B.csv
    engines.py report TIMINGS.tsv --rows N --bytes N --threads N [--meta KEY=VALUE ...]

`run` is what gets timed: one process per run, so interpreter start-up and imports
are part of the wall time (as Spate's process start-up is part of its own).
"""

import argparse
import csv
import datetime as _dt
import os
import statistics
import sys

# ---------------------------------------------------------------------------------
# queries

SCHEMA = [("auction", "BIGINT"), ("bidder", "BIGINT"), ("price", "BIGINT"),
          ("channel", "VARCHAR"), ("url", "VARCHAR"), ("ts", "BIGINT")]

DUCKDB_SQL = {
    "q1": "SELECT COUNT(*) AS n FROM bids WHERE price > 500000 AND channel = 'Google'",
    "q2": ("SELECT ts - ts % 10000 AS window_start, ts - ts % 10000 + 10000 AS window_end, "
           "auction, COUNT(*) AS bids, SUM(price) AS total, MAX(price) AS max_price "
           "FROM bids GROUP BY ALL"),
    "parse": ("SELECT COUNT(*) AS n, SUM(auction) AS sum_auction, SUM(bidder) AS sum_bidder, "
              "SUM(price) AS sum_price, MAX(ts) AS max_ts, COUNT(channel) AS n_channel, "
              "COUNT(url) AS n_url FROM bids"),
}


def run_duckdb(query, path, out, threads):
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads=%d" % threads)
    cols = ", ".join("'%s': '%s'" % c for c in SCHEMA)
    con.execute("CREATE VIEW bids AS SELECT * FROM read_csv('%s', header=true, delim=',', "
                "quote='\"', auto_detect=false, columns={%s})" % (path.replace("'", "''"), cols))
    con.execute("COPY (%s) TO '%s' (FORMAT csv, HEADER true)" % (DUCKDB_SQL[query], out.replace("'", "''")))


def run_polars(query, path, out, threads):
    # POLARS_MAX_THREADS must be set before the import; compare.sh sets it too.
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl
    schema = {"auction": pl.Int64, "bidder": pl.Int64, "price": pl.Int64,
              "channel": pl.String, "url": pl.String, "ts": pl.Int64}
    lf = pl.scan_csv(path, schema=schema, has_header=True)
    c = pl.col
    if query == "q1":
        lf = lf.filter((c("price") > 500000) & (c("channel") == "Google")).select(pl.len().alias("n"))
    elif query == "q2":
        ws = c("ts") - c("ts") % 10000
        lf = (lf.group_by(ws.alias("window_start"), c("auction"))
              .agg(pl.len().alias("bids"), c("price").sum().alias("total"),
                   c("price").max().alias("max_price"))
              .select("window_start", (c("window_start") + 10000).alias("window_end"),
                      "auction", "bids", "total", "max_price"))
    elif query == "parse":
        lf = lf.select(pl.len().alias("n"), c("auction").sum().alias("sum_auction"),
                       c("bidder").sum().alias("sum_bidder"), c("price").sum().alias("sum_price"),
                       c("ts").max().alias("max_ts"), c("channel").count().alias("n_channel"),
                       c("url").count().alias("n_url"))
    engine = os.environ.get("POLARS_ENGINE", "streaming")
    lf.collect(engine=engine).write_csv(out)


# ---------------------------------------------------------------------------------
# result normalisation and comparison

_EPOCH = _dt.datetime(1970, 1, 1)


def _norm(cell):
    """int for integers, epoch ms for timestamps ('2015-07-15 00:00:10.000', ISO 'T',
    optional 'Z'), float for decimals with a fraction, else the string itself."""
    s = cell.strip()
    if s == "":
        return None
    try:
        return int(s)
    except ValueError:
        pass
    if len(s) >= 19 and s[4] == "-" and s[7] == "-" and s[10] in " T":
        t = s.rstrip("Z")
        frac = 0
        if "." in t:
            t, f = t.split(".", 1)
            frac = int((f + "000")[:3])
        try:
            d = _dt.datetime.strptime(t, "%Y-%m-%d %H:%M:%S" if s[10] == " " else "%Y-%m-%dT%H:%M:%S")
            return (d - _EPOCH) // _dt.timedelta(milliseconds=1) + frac
        except ValueError:
            pass
    try:
        f = float(s)
        return int(f) if f.is_integer() else f
    except ValueError:
        return s


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise SystemExit("%s: empty output (no header)" % path)
    header = [h.strip().lower() for h in rows[0]]
    body = sorted((tuple(_norm(c) for c in r) for r in rows[1:]),
                  key=lambda t: tuple(("", 0) if x is None else (type(x).__name__, x) for x in t))
    return header, body


def compare(query, name_a, path_a, name_b, path_b, show=5):
    ha, ra = load(path_a)
    hb, rb = load(path_b)
    ok = True
    if ha != hb:
        print("MISMATCH %s: header %s=%s vs %s=%s" % (query, name_a, ha, name_b, hb))
        ok = False
    if len(ra) != len(rb):
        print("MISMATCH %s: %s has %d rows, %s has %d rows" % (query, name_a, len(ra), name_b, len(rb)))
        ok = False
    diffs = 0
    for k in range(max(len(ra), len(rb))):
        a = ra[k] if k < len(ra) else None
        b = rb[k] if k < len(rb) else None
        if a != b:
            if diffs == 0:
                print("MISMATCH %s: first differing rows (after normalising and sorting):" % query)
            if diffs < show:
                print("  row %d: %-7s %s" % (k, name_a, a))
                print("  row %d: %-7s %s" % (k, name_b, b))
            diffs += 1
            ok = False
    if diffs:
        print("  ... %d differing sorted rows in total" % diffs)
    if ok:
        print("ok %s: %s and %s agree (%d rows)" % (query, name_a, name_b, len(ra)))
    return ok


# ---------------------------------------------------------------------------------
# report

LABEL = {"spate": "Spate", "duckdb": "DuckDB", "polars": "Polars"}
QLABEL = {"q1": "Q1 filter+count", "q2": "Q2 10 s tumble by auction", "parse": "parse (all columns)"}


def report(tsv, rows, nbytes, threads, meta):
    data = {}
    threads_of = {}
    status = {}
    with open(tsv) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "status":  # status QUERY ENGINE ok|MISMATCH|FAILED
                status[(parts[1], parts[2])] = parts[3]
                continue
            q, eng, thr, secs, rss = parts[0], parts[1], int(parts[2]), float(parts[3]), int(parts[4])
            cpu = float(parts[5]) if len(parts) > 5 else float("nan")
            data.setdefault(q, {}).setdefault(eng, []).append((secs, rss, cpu))
            threads_of[(q, eng)] = thr
    out = []
    for k, v in meta:
        out.append("- %s: %s" % (k, v))
    out.append("- input: %d rows, %.1f MB CSV (%.1f B/row)" % (rows, nbytes / 1e6, nbytes / max(rows, 1)))
    out.append("")
    out.append("| query | engine | threads | median s | min s | max s | CPU s | peak RSS MB | median / Spate | MB/s | result |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for q in ("q1", "q2", "parse"):
        if q not in data and not any(k[0] == q for k in status):
            continue
        data.setdefault(q, {})
        meds = {e: statistics.median(r[0] for r in runs) for e, runs in data[q].items()}
        for e in ("spate", "duckdb", "polars"):
            if e not in data[q]:
                if status.get((q, e)) == "FAILED":
                    out.append("| %s | %s | | | | | | | | | FAILED |" % (QLABEL[q], LABEL[e]))
                continue
            runs = data[q][e]
            secs = [r[0] for r in runs]
            rss = max(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            ratio = "%.2fx" % (meds[e] / meds["spate"]) if "spate" in meds and meds["spate"] > 0 else "-"
            out.append("| %s | %s | %d | %.3f | %.3f | %.3f | %.2f | %.0f | %s | %.0f | %s |" % (
                QLABEL[q], LABEL[e], threads_of[(q, e)], meds[e], min(secs), max(secs), cpu,
                rss / 1024.0, ratio, nbytes / 1e6 / meds[e], status.get((q, e), "-")))
    out.append("")
    out.append("Wall time of the whole command (process start, imports, reading the CSV, writing "
               "the result), %d timed runs each, engines alternated run by run after one untimed "
               "warm-up run; page cache warmed first. 'median / Spate' > 1 means Spate is faster. "
               "MB/s = CSV size / median time. CPU s = median user+sys time. Peak RSS = max over runs." % max([len(r) for d in data.values() for r in d.values()] or [0]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("engine", choices=["duckdb", "polars"])
    r.add_argument("query", choices=sorted(DUCKDB_SQL))
    r.add_argument("csv")
    r.add_argument("out")
    r.add_argument("threads", type=int)
    c = sub.add_parser("compare")
    c.add_argument("query")
    c.add_argument("name_a")
    c.add_argument("a")
    c.add_argument("name_b")
    c.add_argument("b")
    p = sub.add_parser("report")
    p.add_argument("tsv")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--meta", action="append", default=[])
    a = ap.parse_args()
    if a.cmd == "run":
        (run_duckdb if a.engine == "duckdb" else run_polars)(a.query, a.csv, a.out, a.threads)
    elif a.cmd == "compare":
        sys.exit(0 if compare(a.query, a.name_a, a.a, a.name_b, a.b) else 1)
    else:
        meta = [m.split("=", 1) for m in a.meta]
        print(report(a.tsv, a.rows, a.bytes, a.threads, meta))


if __name__ == "__main__":
    main()
