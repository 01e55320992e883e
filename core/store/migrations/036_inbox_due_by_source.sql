-- A worker claims its own source's due deliveries in order: the index now
-- leads with the source, so the claim is an ordered index scan that stops
-- after a batch. Without it, on a table that had grown faster than its
-- statistics, the planner intersected two bitmaps and sorted the whole
-- backlog (50,000 rows, on disk) for every batch of 100.
DROP INDEX inbox_due;
CREATE INDEX inbox_due ON inbox (source, next_attempt_at, id) WHERE status = 'pending';
