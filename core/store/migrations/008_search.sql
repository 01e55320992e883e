-- Search: stored tsvectors of what is searched by name, with Russian
-- stemming (search_ru) and without (search_words, ё folded to е, for prefix
-- matching of stemmed query words: иванов:* finds Иванов, Иванова,
-- Ивановым); trigrams for phone fragments. The expressions
-- must match store/search.go.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE contacts
    ADD COLUMN search_ru tsvector GENERATED ALWAYS AS (to_tsvector('russian', last_name || ' ' || first_name || ' ' || middle_name)) STORED,
    ADD COLUMN search_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(last_name || ' ' || first_name || ' ' || middle_name, 'ёЁ', 'еЕ'))) STORED;
ALTER TABLE leads
    ADD COLUMN search_ru tsvector GENERATED ALWAYS AS (to_tsvector('russian', last_name || ' ' || first_name || ' ' || company)) STORED,
    ADD COLUMN search_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(last_name || ' ' || first_name || ' ' || company, 'ёЁ', 'еЕ'))) STORED;
ALTER TABLE accounts
    ADD COLUMN search_ru tsvector GENERATED ALWAYS AS (to_tsvector('russian', name)) STORED,
    ADD COLUMN search_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(name, 'ёЁ', 'еЕ'))) STORED;
ALTER TABLE deals
    ADD COLUMN search_ru tsvector GENERATED ALWAYS AS (to_tsvector('russian', name)) STORED,
    ADD COLUMN search_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(name, 'ёЁ', 'еЕ'))) STORED;

CREATE INDEX contacts_search_ru ON contacts USING gin (search_ru) WHERE deleted_at IS NULL;
CREATE INDEX contacts_search_words ON contacts USING gin (search_words) WHERE deleted_at IS NULL;
CREATE INDEX contacts_phones_trgm ON contacts USING gin ((phone || ' ' || mobile || ' ' || other_phone) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX leads_search_ru ON leads USING gin (search_ru) WHERE deleted_at IS NULL;
CREATE INDEX leads_search_words ON leads USING gin (search_words) WHERE deleted_at IS NULL;
CREATE INDEX leads_phones_trgm ON leads USING gin ((phone || ' ' || mobile) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX accounts_search_ru ON accounts USING gin (search_ru) WHERE deleted_at IS NULL;
CREATE INDEX accounts_search_words ON accounts USING gin (search_words) WHERE deleted_at IS NULL;
CREATE INDEX accounts_phones_trgm ON accounts USING gin ((phone || ' ' || other_phone) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE INDEX deals_search_ru ON deals USING gin (search_ru) WHERE deleted_at IS NULL;
CREATE INDEX deals_search_words ON deals USING gin (search_words) WHERE deleted_at IS NULL;
