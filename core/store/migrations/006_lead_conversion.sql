-- Lead conversion: what a lead became, and the key accounts are matched by.
ALTER TABLE leads
    ADD COLUMN converted_at timestamptz,
    ADD COLUMN converted_account_id uuid REFERENCES accounts (id),
    ADD COLUMN converted_contact_id uuid REFERENCES contacts (id),
    ADD COLUMN converted_deal_id uuid REFERENCES deals (id),
    ADD COLUMN conversion_request bytea;

-- core.NormalizeCompanyName(name), written by the hub.
ALTER TABLE accounts ADD COLUMN name_key text NOT NULL DEFAULT '';
UPDATE accounts SET name_key = lower(btrim(regexp_replace(name, '\s+', ' ', 'g')));
CREATE INDEX accounts_name_key ON accounts (name_key) WHERE deleted_at IS NULL;
