-- Platform: users (record owners), API keys, idempotency keys, the outbox, leads.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    is_admin    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint NOT NULL DEFAULT 1
);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    prefix        text NOT NULL,
    hash          bytea NOT NULL UNIQUE,
    scopes        text[] NOT NULL,
    user_id       uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

CREATE TABLE idempotency_keys (
    owner         text NOT NULL,
    key           text NOT NULL,
    fingerprint   bytea NOT NULL,
    status        integer NOT NULL DEFAULT 0,
    content_type  text NOT NULL DEFAULT '',
    location      text NOT NULL DEFAULT '',
    body          bytea NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- Every change to a CRM record, written in the record's transaction. Event ids
-- are UUIDv7 made by the hub (consumers dedupe on them); no index on them, to
-- keep the hot insert path lean.
CREATE TABLE outbox (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              uuid NOT NULL,
    type            text NOT NULL,
    entity          text NOT NULL,
    entity_id       uuid NOT NULL,
    entity_version  bigint NOT NULL,
    occurred_at     timestamptz NOT NULL,
    source          text NOT NULL,
    actor           text NOT NULL,
    correlation_id  text NOT NULL DEFAULT '',
    data            jsonb NOT NULL,
    changed         text[],
    published_at    timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE leads (
    id               uuid PRIMARY KEY,
    salutation       text NOT NULL DEFAULT '',
    first_name       text NOT NULL DEFAULT '',
    last_name        text NOT NULL,
    company          text NOT NULL,
    title            text NOT NULL DEFAULT '',
    email            text NOT NULL DEFAULT '',
    secondary_email  text NOT NULL DEFAULT '',
    phone            text NOT NULL DEFAULT '',
    mobile           text NOT NULL DEFAULT '',
    fax              text NOT NULL DEFAULT '',
    website          text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT '',
    source           text NOT NULL DEFAULT '',
    industry         text NOT NULL DEFAULT '',
    rating           text NOT NULL DEFAULT '',
    annual_revenue   numeric(17, 2),
    employees        bigint,
    addr_street      text NOT NULL DEFAULT '',
    addr_po_box      text NOT NULL DEFAULT '',
    addr_city        text NOT NULL DEFAULT '',
    addr_state       text NOT NULL DEFAULT '',
    addr_postcode    text NOT NULL DEFAULT '',
    addr_country     text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    owner_id         uuid NOT NULL REFERENCES users (id),
    converted        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    deleted_at       timestamptz,
    version          bigint NOT NULL
);
CREATE INDEX leads_created ON leads (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_updated ON leads (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_last_name ON leads (last_name, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_company ON leads (company, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_phone ON leads (phone) WHERE phone <> '';
CREATE INDEX leads_mobile ON leads (mobile) WHERE mobile <> '';
CREATE INDEX leads_email ON leads (email) WHERE email <> '';
CREATE INDEX leads_owner ON leads (owner_id);
