-- Raw deliveries from webhooks (telephony, web forms), kept before any
-- processing so that nothing accepted is lost, and each delivery once: a
-- provider's retry has the same (source, dedupe_key).
CREATE TABLE inbox (
    id              bigserial PRIMARY KEY,
    source          text NOT NULL,               -- e.g. telephony:mango, webform:contact
    dedupe_key      text NOT NULL,               -- the provider's id (and event kind)
    kind            text NOT NULL DEFAULT '',    -- e.g. events/summary
    content_type    text NOT NULL DEFAULT '',
    body            bytea NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    processed_at    timestamptz,
    UNIQUE (source, dedupe_key)
);
CREATE INDEX inbox_due ON inbox (next_attempt_at, id) WHERE status = 'pending';
