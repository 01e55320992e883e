-- Events (calls, meetings) and tasks, linked to leads, contacts, accounts, deals.
CREATE TABLE activities (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    subject       text NOT NULL,
    status        text NOT NULL,
    priority      text NOT NULL DEFAULT '',
    start_at      timestamptz NOT NULL,
    end_at        timestamptz,
    due_at        timestamptz,
    span_end      timestamptz GENERATED ALWAYS AS (coalesce(end_at, due_at)) STORED,
    completed_at  timestamptz,
    location      text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    lead_id       uuid REFERENCES leads (id),
    contact_id    uuid REFERENCES contacts (id),
    account_id    uuid REFERENCES accounts (id),
    deal_id       uuid REFERENCES deals (id),
    owner_id      uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    version       bigint NOT NULL
);
CREATE INDEX activities_created ON activities (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_updated ON activities (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_start ON activities (start_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_owner_span ON activities (owner_id, start_at, span_end) WHERE deleted_at IS NULL;
CREATE INDEX activities_lead ON activities (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX activities_contact ON activities (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX activities_account ON activities (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX activities_deal ON activities (deal_id) WHERE deal_id IS NOT NULL;

-- Per-user calendar feed tokens: credentials, like API keys, so only their
-- hashes are kept; one live token per user.
CREATE TABLE calendar_tokens (
    user_id     uuid PRIMARY KEY REFERENCES users (id),
    hash        bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);
