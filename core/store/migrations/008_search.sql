-- Search: Russian full-text search and trigrams over names, companies and
-- phones. The expressions here must match the ones in store/search.go.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX contacts_fts ON contacts USING gin (to_tsvector('russian', last_name || ' ' || first_name || ' ' || middle_name)) WHERE deleted_at IS NULL;
CREATE INDEX contacts_trgm ON contacts USING gin ((last_name || ' ' || first_name || ' ' || middle_name) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX contacts_phones_trgm ON contacts USING gin ((phone || ' ' || mobile || ' ' || other_phone) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX leads_fts ON leads USING gin (to_tsvector('russian', last_name || ' ' || first_name || ' ' || company)) WHERE deleted_at IS NULL;
CREATE INDEX leads_trgm ON leads USING gin ((last_name || ' ' || first_name || ' ' || company) gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX leads_phones_trgm ON leads USING gin ((phone || ' ' || mobile) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX accounts_fts ON accounts USING gin (to_tsvector('russian', name)) WHERE deleted_at IS NULL;
CREATE INDEX accounts_trgm ON accounts USING gin (name gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX accounts_phones_trgm ON accounts USING gin ((phone || ' ' || other_phone) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX deals_fts ON deals USING gin (to_tsvector('russian', name)) WHERE deleted_at IS NULL;
CREATE INDEX deals_trgm ON deals USING gin (name gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX contacts_email_lower ON contacts (email) WHERE email <> '' AND deleted_at IS NULL;
