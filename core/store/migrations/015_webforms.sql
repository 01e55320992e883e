-- Website forms: marketing attribution on leads, files attached to records,
-- forms managed through the admin API, and one row per captured submission
-- (its key makes a repeated delivery change nothing).
ALTER TABLE leads
    ADD COLUMN utm_source   text NOT NULL DEFAULT '',
    ADD COLUMN utm_medium   text NOT NULL DEFAULT '',
    ADD COLUMN utm_campaign text NOT NULL DEFAULT '',
    ADD COLUMN utm_content  text NOT NULL DEFAULT '',
    ADD COLUMN utm_term     text NOT NULL DEFAULT '',
    ADD COLUMN click_id     text NOT NULL DEFAULT '',
    ADD COLUMN referrer     text NOT NULL DEFAULT '',
    ADD COLUMN landing_page text NOT NULL DEFAULT '';

CREATE TABLE attachments (
    id           uuid PRIMARY KEY,
    entity       text NOT NULL,
    record_id    uuid NOT NULL,
    file_name    text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    source       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL
);
CREATE INDEX attachments_record ON attachments (entity, record_id, created_at, id);

CREATE TABLE webforms (
    slug       text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint NOT NULL
);

-- Round-robin pointers: whose turn it is to own the next record, per form
-- (config-defined ones too) or telephony provider.
CREATE TABLE round_robin (
    name text PRIMARY KEY,
    next bigint NOT NULL DEFAULT 0
);

CREATE TABLE webform_submissions (
    form           text NOT NULL,
    submission_key text NOT NULL,
    entity         text NOT NULL,
    record_id      uuid NOT NULL,
    created        boolean NOT NULL,
    task_id        uuid,
    remote_ip      text NOT NULL DEFAULT '',
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (form, submission_key)
);
CREATE INDEX webform_submissions_received ON webform_submissions (received_at);
