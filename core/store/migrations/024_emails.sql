-- Documents sent by e-mail: each message with its delivery state (queued
-- until the SMTP server accepts it; retried with backoff), its PDF in
-- attachments, and the edited e-mail templates.
CREATE TABLE emails (
    id              uuid PRIMARY KEY,
    document_kind   text NOT NULL,
    document_id     uuid NOT NULL,
    form            text NOT NULL,
    from_addr       text NOT NULL,
    to_addrs        text[] NOT NULL,
    cc_addrs        text[] NOT NULL DEFAULT '{}',
    subject         text NOT NULL,
    body            text NOT NULL,
    attachment_id   uuid,
    attachment_name text NOT NULL DEFAULT '',
    message_id      text NOT NULL UNIQUE,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    next_attempt_at timestamptz,
    sent_at         timestamptz,
    account_id      uuid REFERENCES accounts (id),
    contact_id      uuid REFERENCES contacts (id),
    deal_id         uuid REFERENCES deals (id),
    activity_id     uuid REFERENCES activities (id),
    idempotency_key text,
    fingerprint     text NOT NULL DEFAULT '',
    owner_id        uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    version         bigint NOT NULL
);
CREATE INDEX emails_created ON emails (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX emails_updated ON emails (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX emails_document ON emails (document_id, created_at);
CREATE INDEX emails_due ON emails (next_attempt_at, id) WHERE status = 'queued';
CREATE UNIQUE INDEX emails_idempotency ON emails (owner_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE email_templates (
    name       text PRIMARY KEY,
    subject    text NOT NULL,
    body       text NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint NOT NULL
);
