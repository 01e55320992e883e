-- The relay remembers how far it got instead of marking every event it
-- publishes: one row (a cursor and the gaps behind it) is updated per batch,
-- where marking rewrote a thousand rows and their index entries.
--
-- A gap is a range of positions below the cursor whose event was not visible when
-- the relay read past it: its transaction was still running (it commits
-- later, and is published then) or rolled back (the position stays empty).
-- A gap is given up only once every transaction that may have taken its
-- position has ended: positions are taken by transactions that already
-- hold an id (crmhub_outbox_next), so once the oldest running transaction
-- is younger than the relay's snapshot when it saw the gap (its horizon),
-- an event that is still missing never comes.
CREATE SEQUENCE outbox_position;
SELECT setval('outbox_position', (SELECT coalesce(max(seq), 0) + 1 FROM outbox), false);
ALTER TABLE outbox ALTER COLUMN seq DROP IDENTITY;
ALTER SEQUENCE outbox_position OWNED BY outbox.seq;

CREATE FUNCTION crmhub_outbox_next() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval('outbox_position');
END
$$;
ALTER TABLE outbox ALTER COLUMN seq SET DEFAULT crmhub_outbox_next();

CREATE TABLE outbox_relay (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    cursor        bigint NOT NULL,
    gap_from      bigint[] NOT NULL DEFAULT '{}',
    gap_to        bigint[] NOT NULL DEFAULT '{}',
    horizons      bigint[] NOT NULL DEFAULT '{}',
    published_at  timestamptz
);
-- Everything before the first unmarked event was published.
INSERT INTO outbox_relay (cursor, published_at)
SELECT coalesce((SELECT min(seq) - 1 FROM outbox WHERE published_at IS NULL), (SELECT max(seq) FROM outbox), 0),
       (SELECT max(published_at) FROM outbox);

DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;

-- What the relay has yet to publish.
CREATE VIEW outbox_pending AS
SELECT o.* FROM outbox o WHERE o.seq > (SELECT cursor FROM outbox_relay)
UNION ALL
SELECT o.* FROM outbox_relay r, unnest(r.gap_from, r.gap_to) g(lo, hi),
    LATERAL (SELECT * FROM outbox o WHERE o.seq BETWEEN g.lo AND g.hi) o;
