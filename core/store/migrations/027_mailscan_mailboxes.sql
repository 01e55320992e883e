-- Mailboxes managed through the admin API (those of the config file are
-- not stored). The password is kept to log in; the API never shows it.
CREATE TABLE mailscan_mailboxes (
    name       text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint NOT NULL
);
