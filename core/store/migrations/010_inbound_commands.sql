-- Commands from other systems: each id once, with where it was read.
CREATE TABLE inbound_commands (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    source      text NOT NULL,
    status      text NOT NULL,          -- applied, or dead_letter
    reason      text NOT NULL DEFAULT '',
    topic       text NOT NULL,
    partition   integer NOT NULL,
    "offset"    bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);

-- The next offset to read, per consumer group, topic and partition: moved
-- in the transaction of the command read there.
CREATE TABLE stream_offsets (
    "group"     text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY ("group", topic, partition)
);
