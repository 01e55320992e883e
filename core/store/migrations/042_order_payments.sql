-- Sales and purchase orders show what their payments add up to and what is
-- left, as invoices do.
ALTER TABLE sales_orders ADD COLUMN amount_paid numeric(17, 2) NOT NULL DEFAULT 0,
    ADD COLUMN balance numeric(17, 2) NOT NULL DEFAULT 0;
ALTER TABLE purchase_orders ADD COLUMN amount_paid numeric(17, 2) NOT NULL DEFAULT 0,
    ADD COLUMN balance numeric(17, 2) NOT NULL DEFAULT 0;
UPDATE sales_orders o SET amount_paid = coalesce((SELECT sum(amount) FROM payments p WHERE p.sales_order_id = o.id
    AND p.direction = 'incoming' AND p.status = 'executed' AND p.deleted_at IS NULL), 0);
UPDATE sales_orders SET balance = grand_total - amount_paid;
UPDATE purchase_orders o SET amount_paid = coalesce((SELECT sum(amount) FROM payments p WHERE p.purchase_order_id = o.id
    AND p.direction = 'outgoing' AND p.status = 'executed' AND p.deleted_at IS NULL), 0);
UPDATE purchase_orders SET balance = grand_total - amount_paid;
