-- A user who sees only some owners' records lists them branch by branch
-- (store.visibleParts): an owner's records come newest first, or oldest
-- first, straight from an index on (owner_id, created_at, id), instead of
-- every visible row being fetched and sorted for one page. Partial, as
-- the other list indexes: without statistics (the first minute after an
-- import) PostgreSQL prefers an index whose predicate the query repeats.
-- The plain owner_id indexes they replace answered lookups by owner only
-- (users are deactivated, never deleted, so no foreign key check needs
-- them).

DROP INDEX leads_owner;
CREATE INDEX leads_owner ON leads (owner_id, created_at, id) WHERE deleted_at IS NULL;
DROP INDEX accounts_owner;
CREATE INDEX accounts_owner ON accounts (owner_id, created_at, id) WHERE deleted_at IS NULL;
DROP INDEX contacts_owner;
CREATE INDEX contacts_owner ON contacts (owner_id, created_at, id) WHERE deleted_at IS NULL;
DROP INDEX deals_owner;
CREATE INDEX deals_owner ON deals (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_owner ON activities (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX quotes_owner ON quotes (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX sales_orders_owner ON sales_orders (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX purchase_orders_owner ON purchase_orders (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX invoices_owner ON invoices (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX acts_owner ON acts (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX realizations_owner ON realizations (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX payments_owner ON payments (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX emails_owner ON emails (owner_id, created_at, id) WHERE deleted_at IS NULL;
-- The other orders of the lists of people and companies.
CREATE INDEX contacts_owner_last_name ON contacts (owner_id, last_name, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_owner_last_name ON leads (owner_id, last_name, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_owner_name ON accounts (owner_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner_name ON deals (owner_id, name, id) WHERE deleted_at IS NULL;
