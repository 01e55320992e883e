-- Excel imports as jobs: the file, the options, the progress (rows_done
-- advances in the transaction that applies a batch, so a killed import
-- resumes where it stopped) and the rows that failed, with the reason.
CREATE TABLE imports (
    id          uuid PRIMARY KEY,
    entity      text NOT NULL,
    status      text NOT NULL, -- queued, running, done, failed
    options     jsonb NOT NULL,
    file_name   text NOT NULL,
    file        bytea NOT NULL,
    header      jsonb NOT NULL DEFAULT '[]',
    mapping     jsonb NOT NULL DEFAULT '{}',
    unmapped    jsonb NOT NULL DEFAULT '[]',
    rows_total  bigint NOT NULL DEFAULT 0,
    rows_done   bigint NOT NULL DEFAULT 0,
    created     bigint NOT NULL DEFAULT 0,
    updated     bigint NOT NULL DEFAULT 0,
    skipped     bigint NOT NULL DEFAULT 0,
    failed      bigint NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    owner_id    uuid NOT NULL REFERENCES users (id),
    lease_until timestamptz,
    started_at  timestamptz,
    finished_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX imports_queued ON imports (created_at) WHERE status IN ('queued', 'running');

CREATE TABLE import_errors (
    import_id  uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number bigint NOT NULL,
    cells      jsonb NOT NULL,
    reason     text NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
