-- vtiger's standard contact fields that were missing, so that an import
-- from SalesPlatform keeps them: the birthday, the home phone and fax, the
-- assistant and their phone, the contact reported to, and the other
-- address (address stays the mailing one).
ALTER TABLE contacts
    ADD COLUMN birthday        date,
    ADD COLUMN home_phone      text NOT NULL DEFAULT '',
    ADD COLUMN fax             text NOT NULL DEFAULT '',
    ADD COLUMN assistant       text NOT NULL DEFAULT '',
    ADD COLUMN assistant_phone text NOT NULL DEFAULT '',
    ADD COLUMN reports_to_id   uuid REFERENCES contacts (id),
    ADD COLUMN other_address   jsonb NOT NULL DEFAULT '{}';
CREATE INDEX contacts_reports_to ON contacts (reports_to_id) WHERE reports_to_id IS NOT NULL;

-- What an import of contacts did with its «Организация» column: contacts
-- linked to an account, and accounts created for them.
ALTER TABLE imports
    ADD COLUMN accounts_linked  bigint NOT NULL DEFAULT 0,
    ADD COLUMN accounts_created bigint NOT NULL DEFAULT 0;
