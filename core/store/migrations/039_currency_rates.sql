-- The Bank of Russia's daily rates (crmhub rates import, rates.url), and
-- each sales document's rate to roubles on its date (1 for RUB).
CREATE TABLE currency_rates (
    date      date NOT NULL,
    currency  text NOT NULL,
    nominal   integer NOT NULL CHECK (nominal > 0),
    rate      numeric(18, 4) NOT NULL CHECK (rate > 0),
    PRIMARY KEY (currency, date)
);
CREATE INDEX currency_rates_date ON currency_rates (date);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['quotes', 'invoices', 'sales_orders', 'purchase_orders', 'acts', 'realizations'] LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN conversion_rate numeric(18, 6) NOT NULL DEFAULT 1', t);
    END LOOP;
END $$;
