-- One GIN index per kind over every phone, e-mail (and ИНН) column, for the
-- duplicate lookup (calls, forms, creates): "any of these columns equals any
-- of these keys" as one array overlap. The per-column partial indexes could
-- not serve it (an OR over columns, some unindexed, and predicates a
-- parameter cannot prove), so each lookup scanned the tables. Empty
-- columns are left out: a key every row shares would make one hot posting
-- list that every insert has to update. fastupdate is off so that lookups
-- never read a long pending list.
CREATE INDEX leads_dup_keys ON leads USING gin ((array_remove(ARRAY[phone, mobile, email, secondary_email], ''))) WITH (fastupdate = off)
    WHERE deleted_at IS NULL AND NOT converted;
CREATE INDEX contacts_dup_keys ON contacts USING gin ((array_remove(ARRAY[phone, mobile, other_phone, email, secondary_email], ''))) WITH (fastupdate = off)
    WHERE deleted_at IS NULL;
CREATE INDEX accounts_dup_keys ON accounts USING gin ((array_remove(ARRAY[phone, other_phone, fax, email, other_email, inn], ''))) WITH (fastupdate = off)
    WHERE deleted_at IS NULL;
