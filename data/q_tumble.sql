-- Bids per auction in 10-second tumbling windows (Nexmark-style), over data/bids.csv.
-- Run from the repository root:  spate sql -f data/q_tumble.sql
CREATE TABLE bids (
  auction BIGINT,
  bidder  BIGINT,
  price   BIGINT,
  channel VARCHAR,
  url     VARCHAR,
  ts      TIMESTAMP(3),           -- epoch milliseconds in the file
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (
  'connector' = 'filesystem',
  'path'      = 'data/bids.csv',
  'format'    = 'csv'
);

SELECT window_start, window_end, auction,
       COUNT(*)   AS bids,
       SUM(price) AS total,
       MAX(price) AS max_price
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, auction;
