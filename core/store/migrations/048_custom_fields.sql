-- Custom fields: the definitions admins add per entity, and on each
-- record kind that carries them a custom object of values (key → value)
-- with a GIN index for equality filters (custom @> '{"key": value}'), and
-- the values of deleted fields, kept 30 days for a restore.

CREATE TABLE custom_fields (
    id         uuid PRIMARY KEY,
    entity     text NOT NULL,
    key        text NOT NULL,
    definition jsonb NOT NULL,
    position   integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    deleted_at timestamptz
);
-- A deleted field keeps its key until it is purged: a restore must find it free.
CREATE UNIQUE INDEX custom_fields_key ON custom_fields (entity, key);

ALTER TABLE leads ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE deals ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE activities ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE products ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE services ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE quotes ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE sales_orders ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE invoices ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE acts ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE realizations ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';
ALTER TABLE payments ADD COLUMN custom jsonb NOT NULL DEFAULT '{}', ADD COLUMN custom_deleted jsonb NOT NULL DEFAULT '{}';

-- An empty object adds no GIN entries: a record without custom values costs the index nothing.
CREATE INDEX leads_custom ON leads USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX contacts_custom ON contacts USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX accounts_custom ON accounts USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX deals_custom ON deals USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX activities_custom ON activities USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX products_custom ON products USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX services_custom ON services USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX quotes_custom ON quotes USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX sales_orders_custom ON sales_orders USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX invoices_custom ON invoices USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX acts_custom ON acts USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX realizations_custom ON realizations USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX payments_custom ON payments USING gin (custom jsonb_path_ops) WHERE deleted_at IS NULL;
