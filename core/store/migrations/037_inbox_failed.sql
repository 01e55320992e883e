-- Failed deliveries, for the operator's list and the inbox metrics: a
-- partial index as small as the failures, so neither reads the whole inbox
-- (thirty days of deliveries: tens of millions of rows on a busy PBX).
CREATE INDEX inbox_failed ON inbox (source, id) WHERE status = 'failed';
