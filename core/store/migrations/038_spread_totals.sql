-- Sales documents follow documents-and-tax.md §6a: the overall discount is
-- spread over the lines before VAT. Each document says which rule made its
-- figures (totals_rule) and has its net total. An issued document keeps the
-- figures it was issued with (a legal document): it is marked 'vtiger'.
-- Drafts are marked 'recompute' and recomputed by the hub after the
-- migrations (store.RecomputeDrafts), with their change events.
-- Every line says its kind (goods, service, or '' for free text), and
-- acts get a счёт-фактура number of their own (services get one too).
DO $$
DECLARE
    t text;
    drafts text;
BEGIN
    FOREACH t IN ARRAY ARRAY['quotes', 'invoices', 'sales_orders', 'purchase_orders', 'acts', 'realizations'] LOOP
        drafts := CASE WHEN t = 'invoices' THEN $q$('created', 'autocreated')$q$ ELSE $q$('created')$q$ END;
        EXECUTE format('ALTER TABLE %I ADD COLUMN net_total numeric(17, 2) NOT NULL DEFAULT 0,
            ADD COLUMN totals_rule text NOT NULL DEFAULT ''spread''', t);
        EXECUTE format($s$UPDATE %I SET net_total = grand_total - vat_total,
            totals_rule = CASE WHEN status IN %s THEN 'recompute' ELSE 'vtiger' END,
            lines = (SELECT coalesce(jsonb_agg(l || jsonb_build_object('kind',
                        CASE WHEN l->>'product_id' IS NOT NULL THEN 'goods'
                             WHEN l->>'service_id' IS NOT NULL THEN 'service' ELSE '' END) ORDER BY n), '[]'::jsonb)
                     FROM jsonb_array_elements(lines) WITH ORDINALITY AS x(l, n))$s$, t, drafts);
        EXECUTE format('CREATE INDEX %I ON %I (id) WHERE totals_rule = ''recompute''', t || '_recompute', t);
    END LOOP;
END $$;

ALTER TABLE acts ADD COLUMN schet_faktura_number text NOT NULL DEFAULT '';
