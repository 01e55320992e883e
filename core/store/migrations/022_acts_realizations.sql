-- Acts (services rendered) and realizations (goods shipped), made from
-- invoices; their lines name the invoice line they bill (source_line_id
-- in the JSON) so that nothing is billed twice.
CREATE TABLE acts (LIKE quotes INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE acts DROP COLUMN valid_until,
    ADD PRIMARY KEY (id),
    ADD UNIQUE (number),
    ADD FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD FOREIGN KEY (contact_id) REFERENCES contacts (id),
    ADD FOREIGN KEY (deal_id) REFERENCES deals (id),
    ADD FOREIGN KEY (price_book_id) REFERENCES price_books (id),
    ADD FOREIGN KEY (owner_id) REFERENCES users (id),
    ADD COLUMN invoice_id uuid REFERENCES invoices (id);
CREATE INDEX acts_created ON acts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX acts_updated ON acts (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX acts_invoice ON acts (invoice_id) WHERE invoice_id IS NOT NULL;

CREATE TABLE realizations (LIKE acts INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE realizations
    ADD PRIMARY KEY (id),
    ADD UNIQUE (number),
    ADD FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD FOREIGN KEY (contact_id) REFERENCES contacts (id),
    ADD FOREIGN KEY (deal_id) REFERENCES deals (id),
    ADD FOREIGN KEY (price_book_id) REFERENCES price_books (id),
    ADD FOREIGN KEY (owner_id) REFERENCES users (id),
    ADD FOREIGN KEY (invoice_id) REFERENCES invoices (id);
CREATE INDEX realizations_created ON realizations (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX realizations_updated ON realizations (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX realizations_invoice ON realizations (invoice_id) WHERE invoice_id IS NOT NULL;

ALTER TABLE invoices
    ADD COLUMN act_ids         uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN realization_ids uuid[] NOT NULL DEFAULT '{}';
