-- Expensive Google bids (Nexmark q2-like selection) over data/bids.csv.
CREATE TABLE bids (
  auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'data/bids.csv', 'format' = 'csv');

SELECT auction, bidder, price / 100 AS dollars, ts
FROM bids
WHERE price > 5000000 AND channel = 'Google';
