-- Reports e-mailed on a schedule, and each run: when, rows, how long,
-- and how the delivery went.
CREATE TABLE report_schedules (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    report      text NOT NULL,
    frequency   text NOT NULL,
    weekday     integer NOT NULL DEFAULT 0,
    day         integer NOT NULL DEFAULT 0,
    at          text NOT NULL,
    time_zone   text NOT NULL,
    format      text NOT NULL,
    recipients  text[] NOT NULL,
    parameters  jsonb NOT NULL DEFAULT '{}',
    active      boolean NOT NULL DEFAULT true,
    next_run_at timestamptz,
    last_run_at timestamptz,
    owner_id    uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    version     bigint NOT NULL
);
CREATE INDEX report_schedules_created ON report_schedules (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX report_schedules_due ON report_schedules (next_run_at) WHERE active AND deleted_at IS NULL;

CREATE TABLE report_runs (
    id          uuid PRIMARY KEY,
    schedule_id uuid NOT NULL REFERENCES report_schedules (id),
    report      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    rows        integer NOT NULL DEFAULT 0,
    duration_ms bigint NOT NULL DEFAULT 0,
    status      text NOT NULL,
    error       text NOT NULL DEFAULT '',
    email_id    uuid
);
CREATE INDEX report_runs_schedule ON report_runs (schedule_id, started_at DESC);
