-- Deals in pipelines, with a stage history for funnel analytics.

CREATE TABLE pipelines (
    id          uuid PRIMARY KEY,
    code        text NOT NULL,
    name        text NOT NULL,
    stages      jsonb NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    version     bigint NOT NULL
);
CREATE UNIQUE INDEX pipelines_code ON pipelines (code) WHERE deleted_at IS NULL;
CREATE INDEX pipelines_created ON pipelines (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX pipelines_name ON pipelines (name, id) WHERE deleted_at IS NULL;

CREATE TABLE deals (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    pipeline_id   uuid NOT NULL REFERENCES pipelines (id),
    stage         text NOT NULL,
    furthest_stage text NOT NULL DEFAULT '',  -- the furthest open stage reached, for the funnel
    probability   integer NOT NULL,
    amount        numeric(17, 2),
    currency      text NOT NULL DEFAULT 'RUB',
    close_date    date,
    account_id    uuid REFERENCES accounts (id),
    contact_id    uuid REFERENCES contacts (id),
    source        text NOT NULL DEFAULT '',
    type          text NOT NULL DEFAULT '',
    next_step     text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    closed_at     timestamptz,
    lead_id       uuid REFERENCES leads (id),
    external_ids  jsonb NOT NULL DEFAULT '{}',
    owner_id      uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    version       bigint NOT NULL
);
CREATE INDEX deals_created ON deals (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_updated ON deals (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_name ON deals (name, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_close_date ON deals (close_date, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_pipeline_stage ON deals (pipeline_id, stage) WHERE deleted_at IS NULL;
-- The funnel reads only this index.
CREATE INDEX deals_funnel ON deals (pipeline_id, owner_id, stage, furthest_stage) INCLUDE (amount, created_at) WHERE deleted_at IS NULL;
CREATE INDEX deals_account ON deals (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX deals_contact ON deals (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX deals_owner ON deals (owner_id);
CREATE INDEX deals_external_ids ON deals USING gin (external_ids jsonb_path_ops);

CREATE TABLE deal_stage_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deal_id      uuid NOT NULL REFERENCES deals (id),
    pipeline_id  uuid NOT NULL REFERENCES pipelines (id),
    from_stage   text NOT NULL,
    to_stage     text NOT NULL,
    amount       numeric(17, 2),
    probability  integer NOT NULL,
    actor        text NOT NULL,
    user_id      text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (deal_id, id);
CREATE INDEX deal_stage_history_pipeline ON deal_stage_history (pipeline_id, to_stage);
