#!/usr/bin/env python3
"""Generate a Nexmark-like bids CSV for end-to-end benchmarks.

    gen_bids.py OUT.csv [--rows 10000000] [--seed 42]

Header: auction,bidder,price,channel,url,ts

The model follows Nexmark's generator (see shared NEXMARK.md sections 2.3-2.6), with
bids only and vectorised draws (numpy), so values are not Java-identical but are
deterministic for a (seed, rows) pair:

- bid i gets Nexmark event id eid = (i // 46) * 50 + 4 + i % 46 (the 1:3:46 split),
  so lastAuction = (eid // 50) * 3 + 2 and lastPerson = eid // 50 grow over time;
- auction: with probability 1/2 the hot auction (lastAuction // 100) * 100, else
  uniform in [max(lastAuction - 100, 0), lastAuction + 10]; plus 1000;
- bidder: with probability 3/4 the hot bidder (lastPerson // 100) * 100 + 1, else a
  recent person (up to 1000 active, 10 ahead); plus 1000;
- price: round(10 ** (U[0,1) * 6) * 100) clipped to [100, 10^8), i.e. log-uniform cents;
- channel: 50% Google/Facebook/Baidu/Apple (12.5% each), 50% channel-N, N < 10000;
  url: one URL per channel, "https://www.nexmark.com/s1/s2/s3/item.htm?query=1" with
  s_k 3-4 chars of [a-z_], and for channel-N with probability 9/10
  "&channel_id=N" appended (Arroyo's variant, no bit reversal);
- ts: epoch milliseconds, base 2015-07-15T00:00:00Z, 10,000 bids per second of event
  time: ts_i = base + (i * 100us) // 1ms - U[0, 1999] ms. The disorder is strictly
  below 2000 ms, so with a `ts - INTERVAL '2' SECOND` watermark no row is late.

Rows are formatted without any per-row Python: every field is written into a
fixed-width uint8 matrix padded with NUL bytes, and the NULs are dropped before the
chunk is written. Memory stays bounded (one chunk at a time).
"""

import argparse
import os
import sys
import time

try:
    import numpy as np
except ImportError:  # pragma: no cover
    sys.exit("gen_bids.py: numpy is required (pip install numpy)")

BASE_MS = 1436918400000  # 2015-07-15T00:00:00Z
CHUNK = 1 << 19          # rows per chunk; part of the output's definition (RNG stream per chunk)
HOT_CHANNELS = [b"Google", b"Facebook", b"Baidu", b"Apple"]
NUM_CHANNELS = 10000
FIRST_ID = 1000
IN_FLIGHT_AUCTIONS = 100
ACTIVE_PEOPLE = 1000
ID_LEAD = 10
HOT_RATIO = 100  # batch size of hot ids
HEADER = b"auction,bidder,price,channel,url,ts\n"


def next_string(rng, max_len, special):
    """Nexmark nextString: 3..max_len-1 chars, each `special` with p=1/13 else a-z."""
    n = 3 + int(rng.integers(0, max_len - 3))
    chars = []
    for _ in range(n):
        if rng.integers(0, 13) == 0:
            chars.append(special)
        else:
            chars.append(chr(ord("a") + int(rng.integers(0, 26))))
    return "".join(chars).strip()


def base_url(rng):
    s = [next_string(rng, 5, "_") for _ in range(3)]
    return "https://www.nexmark.com/%s/%s/%s/item.htm?query=1" % tuple(s)


def channel_table(seed):
    """uint8 matrix, one NUL-padded row 'channel,url' per channel code.

    Codes 0..3 are the hot channels, 4 + N is channel-N.
    """
    rng = np.random.default_rng([seed, 0xC4A77E1])
    entries = []
    for name in HOT_CHANNELS:
        entries.append(name + b"," + base_url(rng).encode())
    for n in range(NUM_CHANNELS):
        url = base_url(rng)
        if rng.integers(0, 10) != 0:
            url += "&channel_id=%d" % n
        entries.append(b"channel-%d," % n + url.encode())
    width = max(len(e) for e in entries)
    table = np.zeros((len(entries), width), dtype=np.uint8)
    for k, e in enumerate(entries):
        table[k, : len(e)] = np.frombuffer(e, dtype=np.uint8)
    return table


def ndigits(x):
    return len(str(int(x)))


def put_uint(mat, col, values, width, pad_leading=True):
    """Write non-negative integers right-aligned into mat[:, col:col+width] as ASCII.

    Leading zero positions become NUL (dropped later) unless pad_leading is False,
    in which case the field is zero-filled to `width` digits.
    """
    if width <= 9:
        x = values.astype(np.uint32)
    else:
        x = values.astype(np.uint64)
    for k in range(width - 1, -1, -1):
        q = x // 10
        mat[:, col + k] = (x - q * 10).astype(np.uint8) + 48
        x = q
    if pad_leading:
        # number of digits per value (at least 1); clear positions before them
        for k in range(1, width):
            # values < 10**k have at most k digits: clear position width-1-k
            small = values < 10 ** k
            mat[small, col + width - 1 - k] = 0


def gen_chunk(seed, chunk_idx, i0, i1, table, widths):
    rng = np.random.default_rng([seed, chunk_idx])
    n = i1 - i0
    i = np.arange(i0, i1, dtype=np.int64)
    eid = (i // 46) * 50 + 4 + i % 46
    epoch = eid // 50
    last_auction = epoch * 3 + 2
    last_person = epoch

    # auction
    hot_a = rng.integers(0, 2, n, dtype=np.int8) > 0
    lo = np.maximum(last_auction - IN_FLIGHT_AUCTIONS, 0)
    span = last_auction - lo + 1 + ID_LEAD
    rand_a = lo + (rng.random(n) * span).astype(np.int64)
    auction = np.where(hot_a, (last_auction // HOT_RATIO) * HOT_RATIO, rand_a) + FIRST_ID

    # bidder
    hot_b = rng.integers(0, 4, n, dtype=np.int8) > 0
    num_people = last_person + 1
    act = np.minimum(num_people, ACTIVE_PEOPLE)
    rand_p = num_people - act + (rng.random(n) * (act + ID_LEAD)).astype(np.int64)
    bidder = np.where(hot_b, (last_person // HOT_RATIO) * HOT_RATIO + 1, rand_p) + FIRST_ID

    # price, log-uniform cents in [100, 10^8)
    price = np.rint(np.power(10.0, rng.random(n) * 6.0) * 100.0).astype(np.int64)
    np.clip(price, 100, 10 ** 8 - 1, out=price)

    # channel (and its url)
    hot_c = rng.integers(0, 2, n, dtype=np.int8) > 0
    hot_idx = rng.integers(0, len(HOT_CHANNELS), n, dtype=np.int16)
    chan = rng.integers(0, NUM_CHANNELS, n, dtype=np.int16)
    code = np.where(hot_c, hot_idx, chan + len(HOT_CHANNELS))

    # timestamp: 100us per bid, floor to ms, minus disorder in [0, 1999] ms
    ts = BASE_MS + (i // 10) - rng.integers(0, 2000, n, dtype=np.int64)

    wa, wb, wp = widths
    wc = table.shape[1]
    width = wa + 1 + wb + 1 + wp + 1 + wc + 1 + 13 + 1
    mat = np.zeros((n, width), dtype=np.uint8)
    col = 0
    put_uint(mat, col, auction, wa); col += wa
    mat[:, col] = ord(","); col += 1
    put_uint(mat, col, bidder, wb); col += wb
    mat[:, col] = ord(","); col += 1
    put_uint(mat, col, price, wp); col += wp
    mat[:, col] = ord(","); col += 1
    mat[:, col:col + wc] = table[code]; col += wc
    mat[:, col] = ord(","); col += 1
    # ts has exactly 13 digits in this era: split to stay in fast 32-bit arithmetic
    put_uint(mat, col, ts // 1000000, 7, pad_leading=False); col += 7
    put_uint(mat, col, ts % 1000000, 6, pad_leading=False); col += 6
    mat[:, col] = ord("\n")
    flat = mat.ravel()
    return flat[flat != 0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output CSV path ('-' for stdout)")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.rows < 0:
        ap.error("--rows must be >= 0")

    t0 = time.time()
    table = channel_table(args.seed)
    # field widths from the largest possible value over the whole file
    last_i = max(args.rows - 1, 0)
    last_epoch = ((last_i // 46) * 50 + 4 + last_i % 46) // 50
    max_auction = last_epoch * 3 + 2 + ID_LEAD + FIRST_ID
    max_bidder = last_epoch + 1 + ID_LEAD + FIRST_ID
    widths = (ndigits(max_auction), ndigits(max_bidder), 8)

    out = sys.stdout.buffer if args.out == "-" else open(args.out + ".tmp" if args.out != "-" else args.out, "wb")
    written = 0
    try:
        out.write(HEADER)
        written += len(HEADER)
        for chunk_idx, i0 in enumerate(range(0, args.rows, CHUNK)):
            i1 = min(i0 + CHUNK, args.rows)
            buf = gen_chunk(args.seed, chunk_idx, i0, i1, table, widths)
            out.write(buf.data)
            written += buf.size
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    if args.out != "-":
        os.replace(args.out + ".tmp", args.out)
    dt = time.time() - t0
    if not args.quiet:
        print("gen_bids: %d rows, %d bytes (%.1f B/row) in %.1f s (%.0f MB/s)" % (
            args.rows, written, written / max(args.rows, 1), dt, written / 1e6 / max(dt, 1e-9)),
            file=sys.stderr)


if __name__ == "__main__":
    main()
