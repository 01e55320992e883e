-- The relay: a wake-up on every committed outbox insert (notifications are
-- delivered at commit, once per transaction and channel), and an index to
-- prune published events.
CREATE FUNCTION crmhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crmhub_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION crmhub_outbox_notify();
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
