#!/usr/bin/env python3
"""Helpers for window_compare.sh: the window targets on DuckDB, Polars and chDB, the
result check, and the report.

    window_engines.py run {duckdb|polars|chdb} {hop|session|maxbid} {csv|parquet} INPUT OUT.csv THREADS
    window_engines.py compare QUERY NAME_A A.csv NAME_B B.csv
    window_engines.py report TIMINGS.tsv --rows N --bytes N --threads N [--meta KEY=VALUE ...]

`run` is what gets timed: one process per run, so interpreter start-up and imports
are part of the wall time (as Spate's process start-up is part of its own).

The queries, with ts in epoch milliseconds:
- hop: 60 s windows sliding every 10 s, per auction: COUNT(*), AVG(price). Written
  the fast way for these engines: per-(10 s pane, auction) counts and sums first,
  then each pane added to the six windows that contain it (a window's rows are the
  union of its six panes, so this is exact), instead of copying every row six times.
- session: per bidder, a new session when a bid is more than 30 s after the
  bidder's previous one; window_start = first ts, window_end = last ts + 30 s;
  COUNT(*), SUM(price). Gaps and islands (lag, then each row's session start as the
  running max of the flagged ts; Polars: sort, diff, cum_sum).
- maxbid: Nexmark q7, the bids whose price equals their 10 s window's maximum.
"""

import argparse
import os
import statistics
import sys

CSV_COLUMNS = [("auction", "BIGINT"), ("bidder", "BIGINT"), ("price", "BIGINT"),
               ("channel", "VARCHAR"), ("url", "VARCHAR"), ("ts", "BIGINT")]

# result columns and how to compare them: ts (Spate prints timestamps, the others
# epoch ms), int, float (equal to 1e-9 relative)
RESULT = {
    "hop": [("window_start", "ts"), ("window_end", "ts"), ("auction", "int"), ("bids", "int"),
            ("avg_price", "float")],
    "session": [("window_start", "ts"), ("window_end", "ts"), ("bidder", "int"), ("bids", "int"),
                ("total", "int")],
    "maxbid": [("window_start", "ts"), ("window_end", "ts"), ("auction", "int"), ("bidder", "int"),
               ("price", "int")],
}

DUCKDB_SQL = {
    "hop": ("WITH p AS (SELECT ts - ts % 10000 AS ps, auction, COUNT(*) AS c, SUM(price) AS s "
            "FROM bids GROUP BY ALL) "
            "SELECT ps - k * 10000 AS window_start, ps - k * 10000 + 60000 AS window_end, auction, "
            "SUM(c) AS bids, SUM(s) / SUM(c) AS avg_price FROM p, range(0, 6) r(k) GROUP BY ALL"),
    # The session's id is its first ts: the largest flagged ts up to the row, over a
    # RANGE frame, so rows with equal ts get the same id however the two window
    # evaluations order them (a running SUM of the flags over ROWS would not).
    "session": ("WITH o AS (SELECT bidder, price, ts, ts - lag(ts) OVER (PARTITION BY bidder ORDER BY ts) AS d "
                "FROM bids), "
                "s AS (SELECT *, max(CASE WHEN d IS NULL OR d > 30000 THEN ts END) OVER (PARTITION BY bidder "
                "ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid FROM o) "
                "SELECT sid AS window_start, MAX(ts) + 30000 AS window_end, bidder, COUNT(*) AS bids, "
                "SUM(price) AS total FROM s GROUP BY bidder, sid"),
    "maxbid": ("WITH w AS (SELECT ts - ts % 10000 AS ws, auction, bidder, price FROM bids) "
               "SELECT w.ws AS window_start, w.ws + 10000 AS window_end, auction, bidder, price "
               "FROM w JOIN (SELECT ws, MAX(price) AS maxprice FROM w GROUP BY ws) m "
               "ON w.ws = m.ws AND w.price = m.maxprice"),
}

# ClickHouse dialect; {src} is the file table function
CHDB_SQL = {
    "hop": ("SELECT ps - k * 10000 AS window_start, ps - k * 10000 + 60000 AS window_end, auction, "
            "sum(c) AS bids, sum(s) / sum(c) AS avg_price "
            "FROM (SELECT ts - ts % 10000 AS ps, auction, count() AS c, sum(price) AS s FROM {src} "
            "GROUP BY ps, auction) ARRAY JOIN [0, 1, 2, 3, 4, 5] AS k "
            "GROUP BY window_start, window_end, auction"),
    # lagInFrame gives 0 on a bidder's first row, which is more than 30 s before any
    # ts; the session id is its first ts, as in DuckDB's form
    "session": ("SELECT sid AS window_start, max(ts) + 30000 AS window_end, bidder, count() AS bids, "
                "sum(price) AS total FROM ("
                "SELECT bidder, price, ts, max(if(new, ts, 0)) OVER (PARTITION BY bidder ORDER BY ts "
                "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid FROM ("
                "SELECT bidder, price, ts, ts - lagInFrame(ts, 1, toInt64(0)) OVER (PARTITION BY bidder "
                "ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) > 30000 AS new FROM {src})) "
                "GROUP BY bidder, sid"),
    "maxbid": ("SELECT ws AS window_start, ws + 10000 AS window_end, auction, bidder, price "
               "FROM (SELECT ts - ts % 10000 AS ws, auction, bidder, price FROM {src}) "
               "WHERE (ws, price) IN (SELECT ts - ts % 10000 AS ws, max(price) FROM {src} GROUP BY ws)"),
}


def run_duckdb(query, fmt, path, out, threads):
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads=%d" % threads)
    p = path.replace("'", "''")
    if fmt == "csv":
        cols = ", ".join("'%s': '%s'" % c for c in CSV_COLUMNS)
        con.execute("CREATE VIEW bids AS SELECT * FROM read_csv('%s', header=true, delim=',', quote='\"', "
                    "auto_detect=false, columns={%s})" % (p, cols))
    else:
        con.execute("CREATE VIEW bids AS SELECT * FROM read_parquet('%s')" % p)
    con.execute("COPY (%s) TO '%s' (FORMAT csv, HEADER true)" % (DUCKDB_SQL[query], out.replace("'", "''")))


def run_polars(query, fmt, path, out, threads):
    # POLARS_MAX_THREADS must be set before the import; window_compare.sh sets it too.
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl
    c = pl.col
    if fmt == "csv":
        schema = {"auction": pl.Int64, "bidder": pl.Int64, "price": pl.Int64,
                  "channel": pl.String, "url": pl.String, "ts": pl.Int64}
        lf = pl.scan_csv(path, schema=schema, has_header=True)
    else:
        lf = pl.scan_parquet(path)
    if query == "hop":
        panes = (lf.group_by((c("ts") - c("ts") % 10000).alias("ps"), c("auction"))
                 .agg(pl.len().cast(pl.Int64).alias("c"), c("price").sum().alias("s")))
        lf = (pl.concat([panes.select((c("ps") - k * 10000).alias("window_start"), "auction", "c", "s")
                         for k in range(6)])
              .group_by("window_start", "auction")
              .agg(c("c").sum().alias("bids"), c("s").sum().alias("s"))
              .select("window_start", (c("window_start") + 60000).alias("window_end"), "auction", "bids",
                      (c("s") / c("bids")).alias("avg_price")))
    elif query == "session":
        s = lf.select("bidder", "price", "ts").sort("bidder", "ts")
        new = ((c("bidder") != c("bidder").shift(1)) | ((c("ts") - c("ts").shift(1)) > 30000)).fill_null(True)
        lf = (s.with_columns(new.cum_sum().alias("sid"))
              .group_by("sid")
              .agg(c("ts").min().alias("window_start"), (c("ts").max() + 30000).alias("window_end"),
                   c("bidder").first(), pl.len().alias("bids"), c("price").sum().alias("total"))
              .select("window_start", "window_end", "bidder", "bids", "total"))
    elif query == "maxbid":
        w = lf.select((c("ts") - c("ts") % 10000).alias("window_start"), "auction", "bidder", "price")
        m = w.group_by("window_start").agg(c("price").max().alias("maxprice"))
        lf = (w.join(m, on="window_start")
              .filter(c("price") == c("maxprice"))
              .select("window_start", (c("window_start") + 10000).alias("window_end"), "auction", "bidder", "price"))
    lf.collect(engine=os.environ.get("POLARS_ENGINE", "streaming")).write_csv(out)


def run_chdb(query, fmt, path, out, threads):
    import chdb
    p = path.replace("\\", "\\\\").replace("'", "\\'")
    if fmt == "csv":
        structure = ", ".join("%s %s" % (n, "String" if t == "VARCHAR" else "Int64") for n, t in CSV_COLUMNS)
        src = "file('%s', 'CSVWithNames', '%s')" % (p, structure)
    else:
        src = "file('%s', 'Parquet')" % p
    sql = CHDB_SQL[query].format(src=src) + " SETTINGS max_threads = %d" % threads
    res = chdb.query(sql, "CSVWithNames")
    with open(out, "wb") as f:
        f.write(res.bytes())


# ---------------------------------------------------------------------------------
# result check, in DuckDB (results can have millions of rows)

REL_TOL = 1e-9


def _load(con, name, path, cols):
    """Table `name` from a CSV result: timestamps ('2015-07-15 00:00:10.000') and
    integers as BIGINT epoch ms / values, floats as DOUBLE, empty as NULL."""
    import csv
    with open(path, newline="") as f:
        header = next(csv.reader(f), None)
    if header is None:
        raise SystemExit("%s: empty output (no header)" % path)
    header = [h.strip().lower() for h in header]
    want = [c for c, _ in cols]
    if header != want:
        return header
    exprs = []
    for c, kind in cols:
        v = '"%s"' % c
        if kind == "ts":
            e = ("CASE WHEN %s LIKE '____-__-__%%' THEN epoch_ms(CAST(%s AS TIMESTAMP)) "
                 "ELSE CAST(%s AS BIGINT) END" % (v, v, v))
        elif kind == "int":
            e = "CAST(%s AS HUGEINT)" % v
        else:
            e = "CAST(%s AS DOUBLE)" % v
        exprs.append("%s AS %s" % (e, v))
    con.execute("CREATE TABLE %s AS SELECT %s FROM read_csv('%s', header=true, all_varchar=true, "
                "auto_detect=false, columns={%s})" % (
                    name, ", ".join(exprs), path.replace("'", "''"),
                    ", ".join("'%s': 'VARCHAR'" % c for c in want)))
    return header


def compare(query, name_a, path_a, name_b, path_b, show=5):
    import duckdb
    cols = RESULT[query]
    con = duckdb.connect()
    ha = _load(con, "a", path_a, cols)
    hb = _load(con, "b", path_b, cols)
    want = [c for c, _ in cols]
    if ha != want or hb != want:
        print("MISMATCH %s: header %s=%s, %s=%s, expected %s" % (query, name_a, ha, name_b, hb, want))
        return False
    exact = ", ".join('"%s"' % c for c, k in cols if k != "float")
    floats = [c for c, k in cols if k == "float"]
    na = con.execute("SELECT count(*) FROM a").fetchone()[0]
    nb = con.execute("SELECT count(*) FROM b").fetchone()[0]
    ok = True
    for x, y, nx, ny in (("a", "b", name_a, name_b), ("b", "a", name_b, name_a)):
        diff = con.execute("SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s" % (exact, x, exact, y)).fetchall()
        if diff:
            if ok:
                print("MISMATCH %s: %s has %d rows, %s has %d" % (query, name_a, na, name_b, nb))
            ok = False
            print("  %d rows of %s not in %s (columns %s), e.g.:" % (len(diff), nx, ny, exact.replace('"', "")))
            for r in sorted(diff)[:show]:
                print("    %s" % (r,))
    if ok and floats:
        dup = con.execute("SELECT count(*) - count(DISTINCT (%s)) FROM a" % exact).fetchone()[0]
        if dup:
            print("MISMATCH %s: cannot match the double columns, %d repeated keys" % (query, dup))
            return False
        on = " AND ".join('a."%s" IS NOT DISTINCT FROM b."%s"' % (c, c) for c, k in cols if k != "float")
        bad_cond = " OR ".join(
            '(a."{0}" IS DISTINCT FROM b."{0}" AND NOT coalesce(abs(a."{0}" - b."{0}") <= {1} * '
            'greatest(abs(a."{0}"), abs(b."{0}")), false))'.format(c, REL_TOL) for c in floats)
        bad = con.execute("SELECT a.*, %s FROM a JOIN b ON %s WHERE %s ORDER BY ALL LIMIT %d" % (
            ", ".join('b."%s"' % c for c in floats), on, bad_cond, show)).fetchall()
        if bad:
            ok = False
            nbad = con.execute("SELECT count(*) FROM a JOIN b ON %s WHERE %s" % (on, bad_cond)).fetchone()[0]
            print("MISMATCH %s: %d rows differ in %s beyond %g relative (%s's row, then %s's %s):" % (
                query, nbad, ",".join(floats), REL_TOL, name_a, name_b, ",".join(floats)))
            for r in bad:
                print("    %s" % (r,))
    if ok:
        print("ok %s: %s and %s agree (%d rows)" % (query, name_a, name_b, na))
    return ok


# ---------------------------------------------------------------------------------
# report

LABEL = {"spate": "Spate", "duckdb": "DuckDB", "polars": "Polars", "chdb": "chDB"}
FLABEL = {"csv": "CSV", "parquet": "Parquet (zstd)", "capture": "capture file"}
QLABEL = {"hop": "HOP 60 s / 10 s by auction: count, avg",
          "session": "SESSION 30 s gap by bidder: count, sum",
          "maxbid": "highest bid per 10 s window (q7)"}
CLASS = {"csv": "csv", "parquet": "binary", "capture": "binary"}


def report(tsv, rows, nbytes, threads, meta):
    data, status, notes = {}, {}, {}
    with open(tsv) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if not parts or not parts[0]:
                continue
            if parts[0] == "status":  # status QUERY FORMAT ENGINE STATUS [NOTE]
                status[(parts[1], parts[2], parts[3])] = parts[4]
                if len(parts) > 5 and parts[5]:
                    notes[(parts[1], parts[2], parts[3])] = parts[5]
                continue
            q, fmt, eng, thr, secs, rss, cpu = parts[:7]
            data.setdefault((q, fmt, eng), []).append((float(secs), int(rss), float(cpu)))
    out = ["- %s" % ": ".join(kv) for kv in meta]
    out.append("- input: %d bids, %.1f MB CSV; %d threads for every engine" % (rows, nbytes / 1e6, threads))
    out.append("")
    out.append("| query | input | engine | median s | min s | max s | CPU s | peak RSS MB | median / Spate | result |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    summary = []
    queries = [q for q in ("hop", "session", "maxbid") if any(k[0] == q for k in list(data) + list(status))]
    for q in queries:
        for cls in ("csv", "binary"):
            combos = [(f, e) for f in ("csv", "capture", "parquet") if CLASS[f] == cls
                      for e in ("spate", "duckdb", "polars", "chdb")
                      if (q, f, e) in data or (q, f, e) in status]
            if not combos:
                continue
            med = {(f, e): statistics.median(r[0] for r in data[(q, f, e)]) for f, e in combos if (q, f, e) in data}
            spate = [v for (f, e), v in med.items() if e == "spate"]
            spate_med = spate[0] if spate else None
            for f, e in combos:
                st = status.get((q, f, e), "-")
                if (q, f, e) not in data:
                    out.append("| %s | %s | %s | | | | | | | %s |" % (QLABEL[q], FLABEL[f], LABEL[e], st))
                    continue
                runs = data[(q, f, e)]
                ratio = "%.2fx" % (med[(f, e)] / spate_med) if spate_med else "-"
                out.append("| %s | %s | %s | %.3f | %.3f | %.3f | %.2f | %.0f | %s | %s |" % (
                    QLABEL[q], FLABEL[f], LABEL[e], med[(f, e)], min(r[0] for r in runs), max(r[0] for r in runs),
                    statistics.median(r[2] for r in runs), max(r[1] for r in runs) / 1024.0, ratio, st))
            others = {k: v for k, v in med.items() if k[1] != "spate"}
            if others:
                (bf, be), best = min(others.items(), key=lambda kv: kv[1])
                sp = [k for k in combos if k[1] == "spate"]
                if spate_med:
                    summary.append("- %s, %s: Spate (%s) %.3f s, fastest other %s (%s) %.3f s: Spate is %.2fx %s" % (
                        QLABEL[q], "CSV" if cls == "csv" else "binary input", FLABEL[sp[0][0]], spate_med,
                        LABEL[be], FLABEL[bf], best, best / spate_med if best >= spate_med else spate_med / best,
                        "faster" if best >= spate_med else "slower"))
                else:
                    reason = status.get((q, sp[0][0], "spate"), "not run") if sp else "not run"
                    note = notes.get((q, sp[0][0], "spate"), "") if sp else ""
                    summary.append("- %s, %s: Spate %s%s; fastest other %s (%s) %.3f s" % (
                        QLABEL[q], "CSV" if cls == "csv" else "binary input", reason,
                        " (%s)" % note if note else "", LABEL[be], FLABEL[bf], best))
    out.append("")
    out.append("Spate against the fastest other engine on the same kind of input:")
    out.extend(summary)
    for (q, f, e), n in sorted(notes.items()):
        if e != "spate":  # Spate's reasons are in its summary lines
            out.append("- %s %s over %s: %s" % (LABEL[e], q, FLABEL[f], n))
    out.append("")
    nruns = max([len(r) for r in data.values()] or [0])
    out.append("Wall time of the whole command (process start, Python imports, reading the input, writing "
               "the result as CSV), %d timed runs each after one untimed warm-up run whose result is checked, "
               "engines alternated run by run, input files read once before each query to warm the page cache. "
               "'median / Spate' > 1 means Spate is faster (CSV rows against Spate over CSV, Parquet rows "
               "against Spate over its capture file). CPU s = median user+sys; peak RSS = max over runs." % nruns)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("engine", choices=["duckdb", "polars", "chdb"])
    r.add_argument("query", choices=sorted(RESULT))
    r.add_argument("format", choices=["csv", "parquet"])
    r.add_argument("input")
    r.add_argument("out")
    r.add_argument("threads", type=int)
    c = sub.add_parser("compare")
    c.add_argument("query", choices=sorted(RESULT))
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
        {"duckdb": run_duckdb, "polars": run_polars, "chdb": run_chdb}[a.engine](
            a.query, a.format, a.input, a.out, a.threads)
    elif a.cmd == "compare":
        sys.exit(0 if compare(a.query, a.name_a, a.a, a.name_b, a.b) else 1)
    else:
        print(report(a.tsv, a.rows, a.bytes, a.threads, [m.split("=", 1) for m in a.meta]))


if __name__ == "__main__":
    main()
