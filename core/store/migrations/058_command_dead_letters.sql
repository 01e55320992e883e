-- Every inbound message sent to the dead-letter topic, by its position:
-- a malformed one has no command id to be remembered by in
-- inbound_commands, and stream status counted only those that had one.
CREATE TABLE command_dead_letters (
    topic      text NOT NULL,
    partition  integer NOT NULL,
    "offset"   bigint NOT NULL,
    command_id text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, "offset")
);
INSERT INTO command_dead_letters (topic, partition, "offset", command_id, reason, at)
SELECT topic, partition, "offset", id, reason, at FROM inbound_commands WHERE status = 'dead_letter'
ON CONFLICT DO NOTHING;
