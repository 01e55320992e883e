-- Sales documents: quotes and invoices (orders, acts, realizations and
-- payments follow), their lines as JSON in the row (a document is written
-- and read whole), and gapless numbering per kind and year.
CREATE TABLE document_numbers (
    kind text NOT NULL,
    year integer NOT NULL,
    seq  bigint NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE quotes (
    id                uuid PRIMARY KEY,
    number            text NOT NULL UNIQUE,
    date              date NOT NULL,
    status            text NOT NULL,
    subject           text NOT NULL DEFAULT '',
    account_id        uuid REFERENCES accounts (id),
    contact_id        uuid REFERENCES contacts (id),
    deal_id           uuid REFERENCES deals (id),
    currency          text NOT NULL,
    price_book_id     uuid REFERENCES price_books (id),
    tax_mode          text NOT NULL,
    lines             jsonb NOT NULL,
    discount_percent  numeric(6, 3),
    discount_amount   numeric(17, 2),
    shipping_amount   numeric(17, 2) NOT NULL DEFAULT 0,
    shipping_vat_rate text NOT NULL DEFAULT '',
    adjustment        numeric(17, 2) NOT NULL DEFAULT 0,
    terms             text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    subtotal          numeric(17, 2) NOT NULL,
    discount_total    numeric(17, 2) NOT NULL,
    vat_total         numeric(17, 2) NOT NULL,
    grand_total       numeric(17, 2) NOT NULL,
    vat_by_rate       jsonb NOT NULL,
    valid_until       date,
    owner_id          uuid NOT NULL REFERENCES users (id),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz,
    version           bigint NOT NULL
);
CREATE INDEX quotes_created ON quotes (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX quotes_updated ON quotes (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX quotes_date ON quotes (date, id) WHERE deleted_at IS NULL;
CREATE INDEX quotes_account ON quotes (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX quotes_deal ON quotes (deal_id) WHERE deal_id IS NOT NULL;

CREATE TABLE invoices (LIKE quotes INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE invoices DROP COLUMN valid_until,
    ADD PRIMARY KEY (id),
    ADD UNIQUE (number),
    ADD FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD FOREIGN KEY (contact_id) REFERENCES contacts (id),
    ADD FOREIGN KEY (deal_id) REFERENCES deals (id),
    ADD FOREIGN KEY (price_book_id) REFERENCES price_books (id),
    ADD FOREIGN KEY (owner_id) REFERENCES users (id),
    ADD COLUMN due_date date,
    ADD COLUMN quote_id uuid REFERENCES quotes (id);
CREATE INDEX invoices_created ON invoices (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX invoices_updated ON invoices (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX invoices_date ON invoices (date, id) WHERE deleted_at IS NULL;
CREATE INDEX invoices_account ON invoices (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX invoices_deal ON invoices (deal_id) WHERE deal_id IS NOT NULL;
CREATE INDEX invoices_quote ON invoices (quote_id) WHERE quote_id IS NOT NULL;
