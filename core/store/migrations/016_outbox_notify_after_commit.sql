-- The relay's wake-up moves out of the writing transactions: a NOTIFY
-- makes PostgreSQL hold a database-wide lock from queueing the
-- notification to the end of the commit (its WAL flush included), so every
-- write transaction with a trigger-issued NOTIFY committed one after the
-- other, at one fsync each. The store now notifies after its commits, on a
-- short transaction of its own (core/store/notify.go).
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION crmhub_outbox_notify();
