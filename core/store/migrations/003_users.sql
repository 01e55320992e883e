-- Users become full records: phone extensions (for telephony routing),
-- soft deletion like every table, a unique e-mail among live users.
ALTER TABLE users
    ADD COLUMN phone_extensions text[] NOT NULL DEFAULT '{}',
    ADD COLUMN deleted_at timestamptz;
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email <> '' AND deleted_at IS NULL;
CREATE INDEX users_phone_extensions ON users USING gin (phone_extensions);
CREATE INDEX users_created ON users (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX users_name ON users (name, id) WHERE deleted_at IS NULL;
