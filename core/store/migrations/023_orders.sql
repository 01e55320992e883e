-- Sales orders (from quotes) and purchase orders (to vendors); payments
-- may pay either.
CREATE TABLE sales_orders (LIKE acts INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE sales_orders DROP COLUMN invoice_id,
    ADD PRIMARY KEY (id),
    ADD UNIQUE (number),
    ADD FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD FOREIGN KEY (contact_id) REFERENCES contacts (id),
    ADD FOREIGN KEY (deal_id) REFERENCES deals (id),
    ADD FOREIGN KEY (price_book_id) REFERENCES price_books (id),
    ADD FOREIGN KEY (owner_id) REFERENCES users (id),
    ADD COLUMN due_date date,
    ADD COLUMN quote_id uuid REFERENCES quotes (id);
CREATE INDEX sales_orders_created ON sales_orders (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX sales_orders_updated ON sales_orders (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX sales_orders_quote ON sales_orders (quote_id) WHERE quote_id IS NOT NULL;

CREATE TABLE purchase_orders (LIKE acts INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE purchase_orders DROP COLUMN invoice_id,
    ADD PRIMARY KEY (id),
    ADD UNIQUE (number),
    ADD FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD FOREIGN KEY (contact_id) REFERENCES contacts (id),
    ADD FOREIGN KEY (deal_id) REFERENCES deals (id),
    ADD FOREIGN KEY (price_book_id) REFERENCES price_books (id),
    ADD FOREIGN KEY (owner_id) REFERENCES users (id),
    ADD COLUMN due_date date;
CREATE INDEX purchase_orders_created ON purchase_orders (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX purchase_orders_updated ON purchase_orders (updated_at, id) WHERE deleted_at IS NULL;

ALTER TABLE payments
    ADD COLUMN sales_order_id    uuid REFERENCES sales_orders (id),
    ADD COLUMN purchase_order_id uuid REFERENCES purchase_orders (id);
