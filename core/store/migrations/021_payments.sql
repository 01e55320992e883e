-- Payments, and what an invoice's executed payments add up to.
CREATE TABLE payments (
    id          uuid PRIMARY KEY,
    number      text NOT NULL UNIQUE,
    date        date NOT NULL,
    direction   text NOT NULL,
    status      text NOT NULL,
    account_id  uuid REFERENCES accounts (id),
    contact_id  uuid REFERENCES contacts (id),
    invoice_id  uuid REFERENCES invoices (id),
    amount      numeric(17, 2) NOT NULL CHECK (amount > 0),
    currency    text NOT NULL,
    method      text NOT NULL,
    reference   text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    owner_id    uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    version     bigint NOT NULL
);
CREATE INDEX payments_created ON payments (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX payments_updated ON payments (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX payments_invoice ON payments (invoice_id) WHERE invoice_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX payments_account ON payments (account_id) WHERE account_id IS NOT NULL;

ALTER TABLE invoices
    ADD COLUMN amount_paid numeric(17, 2) NOT NULL DEFAULT 0,
    ADD COLUMN balance     numeric(17, 2) NOT NULL DEFAULT 0,
    ADD COLUMN overpaid    boolean NOT NULL DEFAULT false;
