-- The parties of a sales document frozen when it is issued (leaves draft):
-- its PDFs print them, so a later edit of the account or of our
-- organization does not rewrite an issued счёт-фактура. Documents issued
-- before this migration have none and print the live requisites.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['quotes', 'invoices', 'sales_orders', 'purchase_orders', 'acts', 'realizations'] LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN requisites jsonb', t);
    END LOOP;
END $$;
