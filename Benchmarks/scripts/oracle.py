#!/usr/bin/env python3
"""Correctness oracle for Spate's windowed SQL: every query shape runs through Spate
and through DuckDB's equivalent batch SQL over the same generated data, and the
results must be the same rows.

    oracle.py gen DIR [--rows 300000] [--seed 42] [--ms-per-bid 10]
    oracle.py check DIR --spate BIN [--shapes a,b] [--workers 1,2] [--require-all]
        [--timeout 300]
    oracle.py selftest DIR [--shapes a,b]
    oracle.py list

`gen` writes DIR/bids.csv (gen_bids.py's bids, event time re-spaced, plus their
input position), DIR/auctions.csv and DIR/persons.csv. No row is late: in every
file a row's event time is at most 1999 ms below the largest one before it, and the
tables declare `WATERMARK FOR ts AS ts - INTERVAL '2' SECOND`, so a streaming run
must give exactly what a batch engine computes over the whole file.

`check` prints one line per shape: PASS, FAIL (with a diff excerpt) or UNSUPPORTED
(Spate rejected the SQL with exit code 64, its usage/SQL error code; the message is
shown). Exit status 1 if any shape failed (or, with --require-all, was unsupported),
2 on a setup error, else 0.

`selftest` checks the oracle itself: every shape's DuckDB SQL against a row-by-row
Python reference.
"""

import argparse
import collections
import csv
import math
import os
import subprocess
import sys
import time

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPT_DIR)

BASE_MS = 1436918400000  # 2015-07-15T00:00:00Z, as gen_bids.py
DISORDER_MS = 2000       # disorder is U[0, DISORDER_MS): strictly below the 2 s watermark delay
FIRST_ID = 1000
BIDS_PER_EPOCH = 46      # Nexmark's epoch of 50 events: 1 person, 3 auctions, 46 bids

# ---------------------------------------------------------------------------------
# data


def _respace(rng, n, ms_per_bid):
    """Event times for n rows generated at ms_per_bid apart, minus U[0, 2000) ms."""
    import numpy as np
    t = BASE_MS + np.floor(np.arange(n, dtype=np.float64) * ms_per_bid).astype(np.int64)
    return t - rng.integers(0, DISORDER_MS, n, dtype=np.int64)


def _check_on_time(ts, what):
    """No row may be late: ts >= (max of the rows before it) - 1999 ms."""
    import numpy as np
    if len(ts) < 2:
        return
    prev_max = np.maximum.accumulate(ts)[:-1]
    bad = np.nonzero(ts[1:] <= prev_max - DISORDER_MS)[0]
    if len(bad):
        raise SystemExit("oracle.py: generated %s row %d would be late" % (what, int(bad[0]) + 1))


def gen(out_dir, rows, seed, ms_per_bid):
    """Bids from gen_bids.py with event time re-spaced to ms_per_bid (gen_bids.py's
    10,000 bids per second put 300k bids in 30 s: too few windows, and every bidder in
    one session), then auctions and persons matching the bids' ids on the same clock."""
    import numpy as np
    import gen_bids
    os.makedirs(out_dir, exist_ok=True)
    raw = os.path.join(out_dir, "bids_raw.csv")
    gen_bids.main([raw, "--rows", str(rows), "--seed", str(seed), "--quiet"])
    rng = np.random.default_rng([seed, 0x0AC1E])
    ts = _respace(rng, rows, ms_per_bid)
    _check_on_time(ts, "bid")
    max_auction = max_bidder = FIRST_ID
    bids = os.path.join(out_dir, "bids.csv")
    with open(raw, "rb") as src, open(bids + ".tmp", "wb") as dst:
        header = src.readline().rstrip(b"\n")
        dst.write(header + b",pos\n")
        for i, line in enumerate(src):
            # every gen_bids row ends with ',' and a 13-digit epoch-ms ts; ids come first
            head = line[:-15]
            a, b, _ = head.split(b",", 2)
            max_auction = max(max_auction, int(a))
            max_bidder = max(max_bidder, int(b))
            dst.write(b"%s,%d,%d\n" % (head, ts[i], i))
    os.replace(bids + ".tmp", bids)
    os.remove(raw)

    # Auction a is created in epoch a // 3, person p in epoch p (Nexmark's event
    # numbering); an epoch spans 46 bids of event time.
    n_auctions = max_auction - FIRST_ID + 1
    a = np.arange(n_auctions, dtype=np.int64)
    a_ts = BASE_MS + np.floor((a // 3) * BIDS_PER_EPOCH * ms_per_bid).astype(np.int64) \
        - rng.integers(0, DISORDER_MS, n_auctions, dtype=np.int64)
    _check_on_time(a_ts, "auction")
    n_persons = max_bidder - FIRST_ID + 1
    p = np.arange(n_persons, dtype=np.int64)
    p_ts = BASE_MS + np.floor(p * BIDS_PER_EPOCH * ms_per_bid).astype(np.int64) \
        - rng.integers(0, DISORDER_MS, n_persons, dtype=np.int64)
    _check_on_time(p_ts, "person")

    # seller: the hot seller (3/4) or one of the last 1000 people, as Nexmark
    last_person = a // 3
    hot = rng.integers(0, 4, n_auctions) > 0
    act = np.minimum(last_person + 1, 1000)
    rand_p = last_person + 1 - act + (rng.random(n_auctions) * act).astype(np.int64)
    seller = np.where(hot, (last_person // 100) * 100, rand_p) + FIRST_ID
    category = 10 + rng.integers(0, 5, n_auctions)
    initial = np.rint(np.power(10.0, rng.random(n_auctions) * 4.0) * 100.0).astype(np.int64)
    with open(os.path.join(out_dir, "auctions.csv"), "w") as f:
        f.write("id,seller,category,initial_bid,ts\n")
        for k in range(n_auctions):
            f.write("%d,%d,%d,%d,%d\n" % (k + FIRST_ID, seller[k], category[k], initial[k], a_ts[k]))

    first = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"]
    last = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]
    cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
              "Seattle", "Kent", "Cheyenne"]
    states = ["AZ", "CA", "ID", "OR", "WA", "WY"]
    fi, li = rng.integers(0, len(first), n_persons), rng.integers(0, len(last), n_persons)
    ci, si = rng.integers(0, len(cities), n_persons), rng.integers(0, len(states), n_persons)
    with open(os.path.join(out_dir, "persons.csv"), "w") as f:
        f.write("id,name,city,state,ts\n")
        for k in range(n_persons):
            f.write("%d,%s %s,%s,%s,%d\n" % (k + FIRST_ID, first[fi[k]], last[li[k]], cities[ci[k]],
                                            states[si[k]], p_ts[k]))
    span = (int(ts.max()) - int(ts.min())) / 1000.0
    print("oracle.py: %d bids over %.0f s of event time (%g ms apart), %d auctions, %d persons in %s" % (
        rows, span, ms_per_bid, n_auctions, n_persons, out_dir), file=sys.stderr)


# ---------------------------------------------------------------------------------
# tables and shapes

TABLES = {
    "bids": [("auction", "BIGINT"), ("bidder", "BIGINT"), ("price", "BIGINT"), ("channel", "VARCHAR"),
             ("url", "VARCHAR"), ("ts", "TIMESTAMP(3)"), ("pos", "BIGINT")],
    "auctions": [("id", "BIGINT"), ("seller", "BIGINT"), ("category", "BIGINT"), ("initial_bid", "BIGINT"),
                 ("ts", "TIMESTAMP(3)")],
    "persons": [("id", "BIGINT"), ("name", "VARCHAR"), ("city", "VARCHAR"), ("state", "VARCHAR"),
                ("ts", "TIMESTAMP(3)")],
}


def spate_ddl(table, path):
    cols = ", ".join("%s %s" % c for c in TABLES[table])
    return ("CREATE TABLE %s (%s,\n  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)\n"
            "  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');\n"
            % (table, cols, path.replace("'", "''")))


class Shape:
    """One query shape: Spate's Flink SQL, DuckDB's batch SQL over the same tables
    (ts as BIGINT epoch ms, bids.pos the input position), and the columns compared
    approximately (APPROX_COUNT_DISTINCT) rather than exactly."""

    def __init__(self, name, tables, spate, duckdb, approx=(), note=""):
        self.name, self.tables, self.spate, self.duckdb = name, tables, spate, duckdb
        self.approx, self.note = set(approx), note


def sessions_sql(gap_ms, extra=""):
    """Gaps and islands: a bidder's row more than the gap after the previous one starts
    a session (Flink merges [ts, ts + gap) windows that touch). A row's session is the
    largest such start up to its ts, over a RANGE frame, so rows with equal ts land in
    the same session however the two window evaluations order them."""
    return ("WITH o AS (SELECT bidder, price, ts, ts - lag(ts) OVER (PARTITION BY bidder ORDER BY ts) AS d FROM bids), "
            "s AS (SELECT *, max(CASE WHEN d IS NULL OR d > %d THEN ts END) OVER (PARTITION BY bidder ORDER BY ts "
            "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid FROM o) "
            "SELECT sid AS window_start, MAX(ts) + %d AS window_end, bidder, COUNT(*) AS n, "
            "SUM(price) AS total%s FROM s GROUP BY bidder, sid" % (gap_ms, gap_ms, extra))


TUMBLE10 = "TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
AGG5 = "COUNT(*) AS n, SUM(price) AS total, MIN(price) AS lo, MAX(price) AS hi, AVG(price) AS avg_price"
# DuckDB: window start of a 10 s tumble over epoch ms (ts > 0, so % is a floor)
W10 = "ts - ts % 10000"

SHAPES = [
    Shape("tumble", ["bids"],
          "SELECT window_start, window_end, auction, %s\nFROM %s\nGROUP BY window_start, window_end, auction" % (AGG5, TUMBLE10),
          "SELECT %s AS window_start, %s + 10000 AS window_end, auction, %s FROM bids GROUP BY ALL" % (W10, W10, AGG5)),
    Shape("hop", ["bids"],
          "SELECT window_start, window_end, auction, %s\n"
          "FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '60' SECOND))\n"
          "GROUP BY window_start, window_end, auction" % AGG5,
          # every row is in the six windows starting at its 10 s slice and the five before
          "SELECT ws AS window_start, ws + 60000 AS window_end, auction, %s "
          "FROM (SELECT *, ts - ts %% 10000 - k * 10000 AS ws FROM bids, range(0, 6) r(k)) GROUP BY ALL" % AGG5),
    Shape("cumulate", ["bids"],
          "SELECT window_start, window_end, auction, %s\n"
          "FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '60' SECOND))\n"
          "GROUP BY window_start, window_end, auction" % AGG5,
          # windows [ws, ws + j * 10 s) of the row's 60 s period that end after it
          "SELECT ws AS window_start, ws + j * 10000 AS window_end, auction, %s "
          "FROM (SELECT *, ts - ts %% 60000 AS ws FROM bids), range(1, 7) r(j) "
          "WHERE ws + j * 10000 > ts GROUP BY ALL" % AGG5),
    Shape("session", ["bids"],
          "SELECT window_start, window_end, bidder, COUNT(*) AS n, SUM(price) AS total, MAX(price) AS hi\n"
          "FROM TABLE(SESSION(TABLE bids PARTITION BY bidder, DESCRIPTOR(ts), INTERVAL '30' SECOND))\n"
          "GROUP BY window_start, window_end, bidder",
          sessions_sql(30000, ", MAX(price) AS hi")),
    Shape("legacy_tumble", ["bids"],
          "SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS window_start,\n"
          "  TUMBLE_END(ts, INTERVAL '10' SECOND) AS window_end, auction, COUNT(*) AS n, SUM(price) AS total\n"
          "FROM bids\nGROUP BY TUMBLE(ts, INTERVAL '10' SECOND), auction",
          "SELECT %s AS window_start, %s + 10000 AS window_end, auction, COUNT(*) AS n, SUM(price) AS total "
          "FROM bids GROUP BY ALL" % (W10, W10)),
    Shape("legacy_hop", ["bids"],
          "SELECT HOP_START(ts, INTERVAL '10' SECOND, INTERVAL '60' SECOND) AS window_start,\n"
          "  HOP_END(ts, INTERVAL '10' SECOND, INTERVAL '60' SECOND) AS window_end, auction,\n"
          "  COUNT(*) AS n, SUM(price) AS total\n"
          "FROM bids\nGROUP BY HOP(ts, INTERVAL '10' SECOND, INTERVAL '60' SECOND), auction",
          "SELECT ws AS window_start, ws + 60000 AS window_end, auction, COUNT(*) AS n, SUM(price) AS total "
          "FROM (SELECT *, ts - ts % 10000 - k * 10000 AS ws FROM bids, range(0, 6) r(k)) GROUP BY ALL"),
    Shape("legacy_session", ["bids"],
          "SELECT SESSION_START(ts, INTERVAL '30' SECOND) AS window_start,\n"
          "  SESSION_END(ts, INTERVAL '30' SECOND) AS window_end, bidder, COUNT(*) AS n, SUM(price) AS total\n"
          "FROM bids\nGROUP BY SESSION(ts, INTERVAL '30' SECOND), bidder",
          sessions_sql(30000)),
    Shape("agg_count_distinct", ["bids"],
          "SELECT window_start, window_end, auction, COUNT(*) AS n, COUNT(DISTINCT bidder) AS bidders,\n"
          "  COUNT(DISTINCT channel) AS channels\nFROM %s\nGROUP BY window_start, window_end, auction" % TUMBLE10,
          "SELECT %s AS window_start, %s + 10000 AS window_end, auction, COUNT(*) AS n, "
          "COUNT(DISTINCT bidder) AS bidders, COUNT(DISTINCT channel) AS channels FROM bids GROUP BY ALL" % (W10, W10)),
    Shape("agg_approx_count_distinct", ["bids"],
          "SELECT window_start, window_end, COUNT(*) AS n, APPROX_COUNT_DISTINCT(bidder) AS bidders,\n"
          "  APPROX_COUNT_DISTINCT(auction) AS auctions, APPROX_COUNT_DISTINCT(url) AS urls\n"
          "FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\nGROUP BY window_start, window_end",
          "SELECT ts - ts % 60000 AS window_start, ts - ts % 60000 + 60000 AS window_end, COUNT(*) AS n, "
          "COUNT(DISTINCT bidder) AS bidders, COUNT(DISTINCT auction) AS auctions, COUNT(DISTINCT url) AS urls "
          "FROM bids GROUP BY ALL",
          approx=("bidders", "auctions", "urls")),
    Shape("agg_first_last", ["bids"],
          "SELECT window_start, window_end, auction, FIRST_VALUE(price) AS first_price,\n"
          "  LAST_VALUE(price) AS last_price, FIRST_VALUE(bidder) AS first_bidder, LAST_VALUE(channel) AS last_channel\n"
          "FROM %s\nGROUP BY window_start, window_end, auction" % TUMBLE10,
          # input order: the position in the file, not event time
          "SELECT %s AS window_start, %s + 10000 AS window_end, auction, arg_min(price, pos) AS first_price, "
          "arg_max(price, pos) AS last_price, arg_min(bidder, pos) AS first_bidder, "
          "arg_max(channel, pos) AS last_channel FROM bids GROUP BY ALL" % (W10, W10)),
    Shape("agg_filter", ["bids"],
          "SELECT window_start, window_end, auction, COUNT(*) AS n,\n"
          "  COUNT(*) FILTER (WHERE price > 1000000) AS big, SUM(price) FILTER (WHERE channel = 'Google') AS google_total,\n"
          "  MAX(price) FILTER (WHERE MOD(bidder, 2) = 0) AS max_even\n"
          "FROM %s\nGROUP BY window_start, window_end, auction" % TUMBLE10,
          "SELECT %s AS window_start, %s + 10000 AS window_end, auction, COUNT(*) AS n, "
          "COUNT(*) FILTER (WHERE price > 1000000) AS big, SUM(price) FILTER (WHERE channel = 'Google') AS google_total, "
          "MAX(price) FILTER (WHERE bidder %% 2 = 0) AS max_even FROM bids GROUP BY ALL" % (W10, W10)),
    Shape("agg_hop_combine", ["bids"],
          "SELECT window_start, window_end, COUNT(DISTINCT bidder) AS bidders, FIRST_VALUE(price) AS first_price,\n"
          "  LAST_VALUE(price) AS last_price, COUNT(*) FILTER (WHERE price > 1000000) AS big, AVG(price) AS avg_price\n"
          "FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '60' SECOND))\n"
          "GROUP BY window_start, window_end",
          "SELECT ws AS window_start, ws + 60000 AS window_end, COUNT(DISTINCT bidder) AS bidders, "
          "arg_min(price, pos) AS first_price, arg_max(price, pos) AS last_price, "
          "COUNT(*) FILTER (WHERE price > 1000000) AS big, AVG(price) AS avg_price "
          "FROM (SELECT *, ts - ts % 10000 - k * 10000 AS ws FROM bids, range(0, 6) r(k)) GROUP BY ALL",
          note="aggregates whose partial states are merged across hop panes"),
    Shape("window_join", ["bids", "auctions"],
          "SELECT L.window_start AS window_start, L.window_end AS window_end, L.auction AS auction,\n"
          "  L.bidder AS bidder, L.price AS price, R.seller AS seller, R.category AS category\n"
          "FROM (SELECT * FROM %s) L\n"
          "JOIN (SELECT * FROM TABLE(TUMBLE(TABLE auctions, DESCRIPTOR(ts), INTERVAL '10' SECOND))) R\n"
          "ON L.auction = R.id AND L.window_start = R.window_start AND L.window_end = R.window_end" % TUMBLE10,
          "SELECT b.ts - b.ts % 10000 AS window_start, b.ts - b.ts % 10000 + 10000 AS window_end, "
          "b.auction AS auction, b.bidder AS bidder, b.price AS price, a.seller AS seller, a.category AS category "
          "FROM bids b JOIN auctions a ON b.auction = a.id AND b.ts - b.ts % 10000 = a.ts - a.ts % 10000"),
    Shape("interval_join", ["bids", "persons"],
          "SELECT b.auction AS auction, b.bidder AS bidder, b.price AS price, b.ts AS bid_ts,\n"
          "  p.name AS name, p.ts AS joined_ts\n"
          "FROM bids b JOIN persons p\n"
          "ON b.bidder = p.id AND b.ts BETWEEN p.ts AND p.ts + INTERVAL '10' SECOND",
          "SELECT b.auction AS auction, b.bidder AS bidder, b.price AS price, b.ts AS bid_ts, "
          "p.name AS name, p.ts AS joined_ts "
          "FROM bids b JOIN persons p ON b.bidder = p.id AND b.ts BETWEEN p.ts AND p.ts + 10000"),
    Shape("topn", ["bids"],
          "SELECT window_start, window_end, auction, bidder, price, rownum FROM (\n"
          "  SELECT window_start, window_end, auction, bidder, price,\n"
          "    ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum\n"
          "  FROM %s\n) WHERE rownum <= 3" % TUMBLE10,
          # equal prices: the row that came first in the input ranks first
          "SELECT * FROM (SELECT %s AS window_start, %s + 10000 AS window_end, auction, bidder, price, "
          "ROW_NUMBER() OVER (PARTITION BY %s ORDER BY price DESC, pos) AS rownum FROM bids) "
          "WHERE rownum <= 3" % (W10, W10, W10)),
    Shape("topn_agg", ["bids"],
          "SELECT window_start, window_end, auction, n, rownum FROM (\n"
          "  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC, auction) AS rownum\n"
          "  FROM (SELECT window_start, window_end, auction, COUNT(*) AS n FROM %s\n"
          "        GROUP BY window_start, window_end, auction)\n) WHERE rownum <= 3" % TUMBLE10,
          "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY n DESC, auction) AS rownum "
          "FROM (SELECT %s AS window_start, %s + 10000 AS window_end, auction, COUNT(*) AS n FROM bids GROUP BY ALL)) "
          "WHERE rownum <= 3" % (W10, W10)),
    Shape("dedup", ["bids"],
          "SELECT auction, bidder, price, ts FROM (\n"
          "  SELECT auction, bidder, price, ts,\n"
          "    ROW_NUMBER() OVER (PARTITION BY auction ORDER BY ts ASC) AS rownum\n"
          "  FROM bids\n) WHERE rownum = 1",
          # equal event times: the first in the input is kept
          "SELECT auction, bidder, price, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction "
          "ORDER BY ts, pos) AS rownum FROM bids) WHERE rownum = 1"),
    Shape("maxbid_topn", ["bids"],
          "SELECT window_start, window_end, auction, bidder, price FROM (\n"
          "  SELECT window_start, window_end, auction, bidder, price,\n"
          "    ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum\n"
          "  FROM %s\n) WHERE rownum <= 1" % TUMBLE10,
          "SELECT window_start, window_end, auction, bidder, price FROM (SELECT %s AS window_start, "
          "%s + 10000 AS window_end, auction, bidder, price, ROW_NUMBER() OVER (PARTITION BY %s "
          "ORDER BY price DESC, pos) AS rownum FROM bids) WHERE rownum = 1" % (W10, W10, W10),
          note="Nexmark q7 as a window top-1 (window_compare.sh's first Spate form)"),
    Shape("maxbid_join", ["bids"],
          "SELECT L.window_start AS window_start, L.window_end AS window_end, L.auction AS auction,\n"
          "  L.bidder AS bidder, L.price AS price\n"
          "FROM (SELECT * FROM %s) L\n"
          "JOIN (SELECT window_start, window_end, MAX(price) AS maxprice FROM %s\n"
          "      GROUP BY window_start, window_end) R\n"
          "ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.price = R.maxprice"
          % (TUMBLE10, TUMBLE10),
          "SELECT b.ws AS window_start, b.ws + 10000 AS window_end, auction, bidder, price "
          "FROM (SELECT *, %s AS ws FROM bids) b JOIN (SELECT %s AS ws, MAX(price) AS maxprice FROM bids "
          "GROUP BY ALL) m ON b.ws = m.ws AND b.price = m.maxprice" % (W10, W10),
          note="Nexmark q7 as a join with the windows' max (window_compare.sh's second Spate form)"),
]


# ---------------------------------------------------------------------------------
# reference: each shape computed row by row in plain Python, to check the DuckDB SQL
# above encodes Flink's semantics (`oracle.py selftest`)


_TABLE_CACHE = {}


def _read_table(data_dir, table):
    key = (data_dir, table)
    if key not in _TABLE_CACHE:
        _TABLE_CACHE[key] = _read_table_uncached(data_dir, table)
    return _TABLE_CACHE[key]


def _read_table_uncached(data_dir, table):
    with open(os.path.join(data_dir, table + ".csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        types = [t for _, t in TABLES[table]]
        return [tuple(v if t == "VARCHAR" else int(v) for v, t in zip(row, types)) for row in r]


def _agg5(prices):
    return (len(prices), sum(prices), min(prices), max(prices), sum(prices) / len(prices))


def _hop_starts(ts, slide, size):
    last = ts - ts % slide
    return range(last - size + slide, last + 1, slide)


def _sessions(bids, gap):
    """{(start, end, bidder): [rows]}: a row more than `gap` after the previous row of
    its bidder starts a new session; a session ends at its last row + gap."""
    by = collections.defaultdict(list)
    for b in bids:
        by[b[1]].append(b)
    out = {}
    for bidder, rows in by.items():
        rows.sort(key=lambda b: b[5])
        cur = [rows[0]]
        for b in rows[1:]:
            if b[5] - cur[-1][5] > gap:
                out[(cur[0][5], cur[-1][5] + gap, bidder)] = cur
                cur = []
            cur.append(b)
        out[(cur[0][5], cur[-1][5] + gap, bidder)] = cur
    return out


def reference(shape, data_dir):
    """(header, rows) of `shape` computed naively; bids are (auction, bidder, price,
    channel, url, ts, pos)."""
    bids = _read_table(data_dir, "bids")
    groups = collections.defaultdict(list)
    name = shape.name
    if name in ("tumble", "legacy_tumble", "agg_count_distinct", "agg_first_last", "agg_filter"):
        for b in bids:
            ws = b[5] - b[5] % 10000
            groups[(ws, ws + 10000, b[0])].append(b)
    elif name in ("hop", "legacy_hop"):
        for b in bids:
            for ws in _hop_starts(b[5], 10000, 60000):
                groups[(ws, ws + 60000, b[0])].append(b)
    elif name == "agg_hop_combine":
        for b in bids:
            for ws in _hop_starts(b[5], 10000, 60000):
                groups[(ws, ws + 60000)].append(b)
    elif name == "cumulate":
        for b in bids:
            ws = b[5] - b[5] % 60000
            for end in range(ws + 10000, ws + 60001, 10000):
                if end > b[5]:
                    groups[(ws, end, b[0])].append(b)
    elif name in ("session", "legacy_session"):
        groups = _sessions(bids, 30000)
    elif name == "agg_approx_count_distinct":
        for b in bids:
            ws = b[5] - b[5] % 60000
            groups[(ws, ws + 60000)].append(b)
    rows = []
    header = None
    if name in ("tumble", "hop", "cumulate"):
        header = ["window_start", "window_end", "auction", "n", "total", "lo", "hi", "avg_price"]
        rows = [k + _agg5([b[2] for b in g]) for k, g in groups.items()]
    elif name in ("legacy_tumble", "legacy_hop"):
        header = ["window_start", "window_end", "auction", "n", "total"]
        rows = [k + (len(g), sum(b[2] for b in g)) for k, g in groups.items()]
    elif name == "session":
        header = ["window_start", "window_end", "bidder", "n", "total", "hi"]
        rows = [k + (len(g), sum(b[2] for b in g), max(b[2] for b in g)) for k, g in groups.items()]
    elif name == "legacy_session":
        header = ["window_start", "window_end", "bidder", "n", "total"]
        rows = [k + (len(g), sum(b[2] for b in g)) for k, g in groups.items()]
    elif name == "agg_count_distinct":
        header = ["window_start", "window_end", "auction", "n", "bidders", "channels"]
        rows = [k + (len(g), len({b[1] for b in g}), len({b[3] for b in g})) for k, g in groups.items()]
    elif name == "agg_approx_count_distinct":
        header = ["window_start", "window_end", "n", "bidders", "auctions", "urls"]
        rows = [k + (len(g), len({b[1] for b in g}), len({b[0] for b in g}), len({b[4] for b in g}))
                for k, g in groups.items()]
    elif name == "agg_first_last":
        header = ["window_start", "window_end", "auction", "first_price", "last_price", "first_bidder", "last_channel"]
        for k, g in groups.items():
            f, l = min(g, key=lambda b: b[6]), max(g, key=lambda b: b[6])
            rows.append(k + (f[2], l[2], f[1], l[3]))
    elif name == "agg_filter":
        header = ["window_start", "window_end", "auction", "n", "big", "google_total", "max_even"]
        for k, g in groups.items():
            google = [b[2] for b in g if b[3] == "Google"]
            even = [b[2] for b in g if b[1] % 2 == 0]
            rows.append(k + (len(g), sum(1 for b in g if b[2] > 1000000), sum(google) if google else None,
                             max(even) if even else None))
    elif name == "agg_hop_combine":
        header = ["window_start", "window_end", "bidders", "first_price", "last_price", "big", "avg_price"]
        for k, g in groups.items():
            rows.append(k + (len({b[1] for b in g}), min(g, key=lambda b: b[6])[2], max(g, key=lambda b: b[6])[2],
                             sum(1 for b in g if b[2] > 1000000), sum(b[2] for b in g) / len(g)))
    elif name == "window_join":
        header = ["window_start", "window_end", "auction", "bidder", "price", "seller", "category"]
        auctions = collections.defaultdict(list)
        for a in _read_table(data_dir, "auctions"):
            auctions[(a[0], a[4] - a[4] % 10000)].append(a)
        for b in bids:
            ws = b[5] - b[5] % 10000
            for a in auctions.get((b[0], ws), ()):
                rows.append((ws, ws + 10000, b[0], b[1], b[2], a[1], a[2]))
    elif name == "interval_join":
        header = ["auction", "bidder", "price", "bid_ts", "name", "joined_ts"]
        persons = collections.defaultdict(list)
        for p in _read_table(data_dir, "persons"):
            persons[p[0]].append(p)
        for b in bids:
            for p in persons.get(b[1], ()):
                if p[4] <= b[5] <= p[4] + 10000:
                    rows.append((b[0], b[1], b[2], b[5], p[1], p[4]))
    elif name in ("topn", "maxbid_topn", "maxbid_join", "topn_agg"):
        for b in bids:
            ws = b[5] - b[5] % 10000
            groups[(ws, ws + 10000)].append(b)
        for k, g in groups.items():
            if name == "topn_agg":
                n = collections.Counter(b[0] for b in g)
                ranked = sorted(n.items(), key=lambda x: (-x[1], x[0]))[:3]
                rows += [k + (a, c, r + 1) for r, (a, c) in enumerate(ranked)]
                continue
            ranked = sorted(g, key=lambda b: (-b[2], b[6]))
            if name == "topn":
                rows += [k + (b[0], b[1], b[2], r + 1) for r, b in enumerate(ranked[:3])]
            elif name == "maxbid_topn":
                rows.append(k + (ranked[0][0], ranked[0][1], ranked[0][2]))
            else:
                rows += [k + (b[0], b[1], b[2]) for b in g if b[2] == ranked[0][2]]
        header = {"topn": ["window_start", "window_end", "auction", "bidder", "price", "rownum"],
                  "topn_agg": ["window_start", "window_end", "auction", "n", "rownum"]}.get(
            name, ["window_start", "window_end", "auction", "bidder", "price"])
    elif name == "dedup":
        header = ["auction", "bidder", "price", "ts"]
        first = {}
        for b in bids:
            if b[0] not in first or (b[5], b[6]) < (first[b[0]][5], first[b[0]][6]):
                first[b[0]] = b
        rows = [(b[0], b[1], b[2], b[5]) for b in first.values()]
    if header is None:
        raise KeyError("no reference for shape %s" % name)
    return header, rows


def selftest(data_dir, shapes):
    """DuckDB's SQL for each shape against the plain-Python reference."""
    con = load_duckdb(data_dir)
    bad = 0
    for shape in shapes:
        cur = con.execute(shape.duckdb)
        got = [tuple(r) for r in cur.fetchall()]
        header, rows = reference(shape, data_dir)
        ok, lines = compare_rows("duckdb", [d[0].lower() for d in cur.description], got,
                                 "python", header, rows, shape.approx)
        print("%-11s %-26s (%d rows)" % ("oracle-ok" if ok else "ORACLE-BAD", shape.name, len(rows)))
        if not ok:
            bad += 1
            print(indent("\n".join(lines)))
    return 1 if bad else 0


# ---------------------------------------------------------------------------------
# comparison

REL_TOL = 1e-9
APPROX_TOL = 0.03


def read_csv_result(path):
    """(header, rows) of a CSV result with a header, cells normalised as engines.py
    does (ints, timestamps as epoch ms, floats, strings, '' as NULL)."""
    from engines import _norm
    with open(path, newline="") as f:
        data = list(csv.reader(f))
    if not data:
        raise ValueError("%s: empty output (no header)" % path)
    return [h.strip().lower() for h in data[0]], [tuple(_norm(c) for c in r) for r in data[1:]]


def _sort_key(row, skip=()):
    return tuple((0, 0) if x is None else (1, x) if isinstance(x, (int, float)) else (2, str(x))
                 for k, x in enumerate(row) if k not in skip)


def _canon(row):
    return tuple(float("%.9g" % x) if isinstance(x, float) else x for x in row)


def _close(a, b):
    if a == b:
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not (isinstance(a, int) and isinstance(b, int)):
        if math.isnan(a) and math.isnan(b):
            return True
        return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) + 1e-300
    return False


def compare_rows(name_a, header_a, rows_a, name_b, header_b, rows_b, approx=(), show=6):
    """(ok, lines): the same multiset of rows; doubles equal to REL_TOL relative, the
    `approx` columns (names) within APPROX_TOL of B's exact value (see _approx_verdict)."""
    if header_a != header_b:
        return False, ["header differs: %s %s vs %s %s" % (name_a, header_a, name_b, header_b)]
    skip = {header_a.index(c) for c in approx if c in header_a}
    ra = sorted(rows_a, key=lambda r: _sort_key(r, skip))
    rb = sorted(rows_b, key=lambda r: _sort_key(r, skip))
    lines = []
    ok = len(ra) == len(rb)
    errors = []  # relative errors of the approximate columns
    if ok:
        for x, y in zip(ra, rb):
            if len(x) != len(y) or any(not _close(p, q) for k, (p, q) in enumerate(zip(x, y)) if k not in skip):
                ok = False
                break
            for k in skip:
                if x[k] is None or y[k] is None:
                    ok = ok and x[k] is None and y[k] is None
                else:
                    errors.append((x[k] - y[k]) / max(abs(y[k]), 1))
    if ok:
        if skip:
            ok, verdict = _approx_verdict(errors)
            lines.append(verdict)
        return ok, lines
    lines.append("%s has %d rows, %s has %d" % (name_a, len(ra), name_b, len(rb)))
    # the rows each side has that the other has not (doubles rounded to 9 digits,
    # approximate columns left out)
    keep = lambda r: tuple(v for k, v in enumerate(_canon(r)) if k not in skip)
    ca = collections.Counter(keep(r) for r in ra)
    cb = collections.Counter(keep(r) for r in rb)
    only_a, only_b = ca - cb, cb - ca
    if only_a or only_b:
        lines.append("%d rows only in %s, %d only in %s (columns %s):" % (
            sum(only_a.values()), name_a, sum(only_b.values()), name_b,
            ",".join(h for k, h in enumerate(header_a) if k not in skip)))
        for r in sorted(only_a, key=_sort_key)[:show]:
            lines.append("  only in %-7s %s" % (name_a, r))
        for r in sorted(only_b, key=_sort_key)[:show]:
            lines.append("  only in %-7s %s" % (name_b, r))
    else:
        lines.append("first differing rows after sorting:")
        shown = 0
        for x, y in zip(ra, rb):
            if len(x) != len(y) or any(not _close(p, q) for p, q in zip(x, y)):
                lines.append("  %-7s %s" % (name_a, x))
                lines.append("  %-7s %s" % (name_b, y))
                shown += 1
                if shown >= show:
                    break
    return False, lines


def _approx_verdict(errors):
    """Every estimate within 3% is a pass. A HyperLogLog with 2^p registers has a
    relative standard error near 1.04/sqrt(2^p) (1.6% at p = 12), so over many groups a
    few estimates beyond 3% are expected; the shape still passes when at most 10% of
    them are beyond 3%, none beyond 8% and the mean error is within 1% (no bias)."""
    if not errors:
        return True, "approx: no estimates to check"
    n = len(errors)
    worst = max(abs(e) for e in errors)
    over = sum(1 for e in errors if abs(e) > APPROX_TOL)
    mean = sum(errors) / n
    text = "approx: %d estimates, max |error| %.2f%%, mean error %+.2f%%, %d beyond 3%%" % (
        n, worst * 100, mean * 100, over)
    ok = over == 0 or (over <= 0.10 * n and worst <= 0.08 and abs(mean) <= 0.01)
    return ok, text


# ---------------------------------------------------------------------------------
# running


def load_duckdb(data_dir):
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads=2")
    for table, cols in TABLES.items():
        spec = ", ".join("'%s': '%s'" % (c, "BIGINT" if t.startswith("TIMESTAMP") else t) for c, t in cols)
        path = os.path.join(data_dir, table + ".csv").replace("'", "''")
        con.execute("CREATE TABLE %s AS SELECT * FROM read_csv('%s', header=true, auto_detect=false, "
                    "columns={%s})" % (table, path, spec))
    return con


def run_spate(spate, sql_path, workers, out, timeout):
    """(status, detail): ('ok', stderr), ('unsupported', message) or ('error', message)."""
    if os.path.exists(out):
        os.remove(out)
    try:
        p = subprocess.run([spate, "sql", "-f", sql_path, "--workers", str(workers), "-o", out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "error", "timed out after %d s" % timeout
    err = p.stderr.decode(errors="replace").strip()
    if p.returncode == 0 and os.path.exists(out):
        return "ok", err
    if p.returncode == 64:
        return "unsupported", err
    if p.returncode < 0:
        return "error", "killed by signal %d\n%s" % (-p.returncode, err)
    return "error", "exit %d\n%s" % (p.returncode, err)


def indent(text, n=6, limit=12):
    lines = text.splitlines()
    if len(lines) > limit:
        lines = lines[:limit] + ["... (%d more lines)" % (len(lines) - limit)]
    return "\n".join(" " * n + l for l in lines)


def check(data_dir, spate, shapes, workers, require_all, timeout):
    con = load_duckdb(data_dir)
    sql_dir = os.path.join(data_dir, "sql")
    out_dir = os.path.join(data_dir, "out")
    os.makedirs(sql_dir, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    results = collections.OrderedDict()
    for shape in shapes:
        t0 = time.time()
        sql_path = os.path.join(sql_dir, shape.name + ".sql")
        with open(sql_path, "w") as f:
            for t in shape.tables:
                f.write(spate_ddl(t, os.path.join(data_dir, t + ".csv")))
            f.write(shape.spate + ";\n")
        cur = con.execute(shape.duckdb)
        exp_header = [d[0].lower() for d in cur.description]
        expected = [tuple(r) for r in cur.fetchall()]
        status, detail = "PASS", []
        for w in workers:
            out = os.path.join(out_dir, "%s_w%d.csv" % (shape.name, w))
            st, msg = run_spate(spate, sql_path, w, out, timeout)
            if st == "unsupported":
                status, detail = "UNSUPPORTED", [msg]
                break
            if st == "error":
                status, detail = "FAIL", ["spate --workers %d: %s" % (w, msg)]
                break
            if "late" in msg.lower():
                detail.append("spate --workers %d reported late rows (the data has none): %s" % (w, msg))
            header, rows = read_csv_result(out)
            ok, lines = compare_rows("spate", header, rows, "duckdb", exp_header, expected, shape.approx)
            if not ok:
                status = "FAIL"
                detail += ["spate --workers %d vs DuckDB:" % w] + lines
                break
            detail += [l for l in lines if l.startswith("approx") and l not in detail]
        secs = time.time() - t0
        results[shape.name] = status
        extra = " (%d rows, workers %s, %.1f s)" % (len(expected), ",".join(map(str, workers)), secs)
        print("%-11s %-26s%s" % (status, shape.name, extra if status != "UNSUPPORTED" else ""))
        if detail:
            print(indent("\n".join(detail)))
        if status == "FAIL":
            print(indent("SQL: %s" % sql_path))
        sys.stdout.flush()
    counts = collections.Counter(results.values())
    print("\n%d shapes: %d PASS, %d FAIL, %d UNSUPPORTED" % (
        len(results), counts["PASS"], counts["FAIL"], counts["UNSUPPORTED"]))
    if counts["FAIL"] or (require_all and counts["UNSUPPORTED"]):
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--rows", type=int, default=300000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--ms-per-bid", type=float, default=10.0)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("--spate", required=True)
    c.add_argument("--shapes", default="")
    c.add_argument("--workers", default="1,2")
    c.add_argument("--require-all", action="store_true")
    c.add_argument("--timeout", type=int, default=300)
    t = sub.add_parser("selftest")
    t.add_argument("dir")
    t.add_argument("--shapes", default="")
    sub.add_parser("list")
    a = ap.parse_args()
    if a.cmd == "gen":
        if a.rows <= 0 or a.ms_per_bid <= 0:
            ap.error("--rows and --ms-per-bid must be positive")
        gen(a.dir, a.rows, a.seed, a.ms_per_bid)
    elif a.cmd == "list":
        for s in SHAPES:
            print("%-26s %s" % (s.name, s.note))
    else:
        by_name = {s.name: s for s in SHAPES}
        names = [n for n in a.shapes.split(",") if n] or [s.name for s in SHAPES]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            print("oracle.py: unknown shape(s) %s; known: %s" % (", ".join(unknown), ", ".join(by_name)),
                  file=sys.stderr)
            sys.exit(2)
        if a.cmd == "selftest":
            sys.exit(selftest(a.dir, [by_name[n] for n in names]))
        try:
            workers = [int(w) for w in a.workers.split(",")]
        except ValueError:
            ap.error("--workers takes a comma-separated list of counts, e.g. 1,2")
        sys.exit(check(a.dir, a.spate, [by_name[n] for n in names], workers, a.require_all, a.timeout))


if __name__ == "__main__":
    main()
