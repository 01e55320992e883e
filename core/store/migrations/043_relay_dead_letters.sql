-- Events the stream refused for good (the broker's MESSAGE_TOO_LARGE,
-- INVALID_RECORD, …) are set aside here with the reason, so that the relay
-- goes on with the events behind them instead of retrying one event forever.
-- A record with a dead letter is held: its later events wait here behind it
-- (held_behind names the event they wait for), so consumers never see a
-- record's versions out of order. `crmhub stream dead-letters retry` asks the
-- relay to publish a record's dead letters again (retry_requested_at); the
-- published ones are deleted.
--
-- The row is a copy of the outbox event: the outbox is pruned by retention,
-- a dead letter is kept until it is published or dropped by hand.
CREATE TABLE outbox_dead_letters (
    seq                 bigint PRIMARY KEY,
    id                  uuid NOT NULL UNIQUE,
    type                text NOT NULL,
    entity              text NOT NULL,
    entity_id           uuid NOT NULL,
    entity_version      bigint NOT NULL,
    occurred_at         timestamptz NOT NULL,
    source              text NOT NULL,
    actor               text NOT NULL,
    correlation_id      text NOT NULL DEFAULT '',
    data                jsonb NOT NULL,
    changed             text[],
    reason              text NOT NULL,
    held_behind         uuid,
    attempts            int NOT NULL DEFAULT 1,
    failed_at           timestamptz NOT NULL DEFAULT now(),
    retry_requested_at  timestamptz
);
CREATE INDEX outbox_dead_letters_record ON outbox_dead_letters (entity, entity_id, seq);
CREATE INDEX outbox_dead_letters_retry ON outbox_dead_letters (seq) WHERE retry_requested_at IS NOT NULL;
