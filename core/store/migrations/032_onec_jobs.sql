-- The 1C exchange log: every import job with its summary (counts and the
-- errors with the element and its Ид), kept after the hub restarts.
CREATE TABLE onec_jobs (
    id          text PRIMARY KEY,
    file        text NOT NULL,
    status      text NOT NULL,
    data        jsonb NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX onec_jobs_started ON onec_jobs (started_at DESC, id DESC);
