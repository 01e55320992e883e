-- Report definitions (the standard reports are built in, not stored).
CREATE TABLE reports (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    definition  jsonb NOT NULL,
    owner_id    uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    version     bigint NOT NULL
);
CREATE INDEX reports_created ON reports (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX reports_name ON reports (name, id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX reports_slug ON reports (slug) WHERE slug <> '' AND deleted_at IS NULL;
