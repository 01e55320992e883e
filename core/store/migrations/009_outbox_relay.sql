-- The relay: a wake-up on every committed outbox insert (notifications are
-- delivered at commit, once per transaction and channel). Pruning walks the
-- primary key in seq order (old published events come first), so that
-- marking an event published updates no extra index.
CREATE FUNCTION crmhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crmhub_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION crmhub_outbox_notify();
