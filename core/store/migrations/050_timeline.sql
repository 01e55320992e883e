-- Timelines: a record's card reads each of its sources (its events, the
-- activities, calls, e-mails, documents and payments linked to it) newest
-- first from an index on (link, created_at, id), so a page costs the same
-- however old the record. The single-column link indexes become such
-- indexes (they serve every lookup the old ones did); the links that had
-- none get one.

-- A record's events, newest first; and by version, in the order history
-- reads them, so that each event's predecessor (whose data its changes'
-- old values come from) is one index probe.
CREATE INDEX outbox_timeline ON outbox (entity_id, occurred_at, id) WHERE type NOT LIKE '%.snapshot';
DROP INDEX outbox_entity_history;
CREATE INDEX outbox_entity_history ON outbox (entity_id, entity_version, seq);

DROP INDEX activities_lead;
CREATE INDEX activities_lead ON activities (lead_id, created_at, id) WHERE lead_id IS NOT NULL;
DROP INDEX activities_contact;
CREATE INDEX activities_contact ON activities (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
DROP INDEX activities_account;
CREATE INDEX activities_account ON activities (account_id, created_at, id) WHERE account_id IS NOT NULL;
DROP INDEX activities_deal;
CREATE INDEX activities_deal ON activities (deal_id, created_at, id) WHERE deal_id IS NOT NULL;

DROP INDEX calls_lead;
CREATE INDEX calls_lead ON calls (lead_id, created_at, id) WHERE lead_id IS NOT NULL;
DROP INDEX calls_contact;
CREATE INDEX calls_contact ON calls (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
DROP INDEX calls_account;
CREATE INDEX calls_account ON calls (account_id, created_at, id) WHERE account_id IS NOT NULL;
-- An activity that records a call, a sent e-mail or a scanned one is
-- shown once, as the call or the e-mail.
CREATE INDEX calls_activity ON calls (activity_id) WHERE activity_id IS NOT NULL;
CREATE INDEX emails_activity ON emails (activity_id) WHERE activity_id IS NOT NULL;
CREATE INDEX mailscan_messages_activity ON mailscan_messages (activity_id) WHERE activity_id IS NOT NULL;

CREATE INDEX emails_account ON emails (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX emails_contact ON emails (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
CREATE INDEX emails_deal ON emails (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
DROP INDEX emails_document;
CREATE INDEX emails_document ON emails (document_id, created_at, id);

DROP INDEX quotes_deal;
CREATE INDEX quotes_deal ON quotes (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
DROP INDEX quotes_account;
CREATE INDEX quotes_account ON quotes (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX quotes_contact ON quotes (contact_id, created_at, id) WHERE contact_id IS NOT NULL;

CREATE INDEX sales_orders_deal ON sales_orders (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
CREATE INDEX sales_orders_account ON sales_orders (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX sales_orders_contact ON sales_orders (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
DROP INDEX sales_orders_quote;
CREATE INDEX sales_orders_quote ON sales_orders (quote_id, created_at, id) WHERE quote_id IS NOT NULL;

CREATE INDEX purchase_orders_deal ON purchase_orders (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
CREATE INDEX purchase_orders_account ON purchase_orders (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX purchase_orders_contact ON purchase_orders (contact_id, created_at, id) WHERE contact_id IS NOT NULL;

DROP INDEX invoices_deal;
CREATE INDEX invoices_deal ON invoices (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
DROP INDEX invoices_account;
CREATE INDEX invoices_account ON invoices (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX invoices_contact ON invoices (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
DROP INDEX invoices_quote;
CREATE INDEX invoices_quote ON invoices (quote_id, created_at, id) WHERE quote_id IS NOT NULL;

CREATE INDEX acts_deal ON acts (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
CREATE INDEX acts_account ON acts (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX acts_contact ON acts (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
DROP INDEX acts_invoice;
CREATE INDEX acts_invoice ON acts (invoice_id, created_at, id) WHERE invoice_id IS NOT NULL;

CREATE INDEX realizations_deal ON realizations (deal_id, created_at, id) WHERE deal_id IS NOT NULL;
CREATE INDEX realizations_account ON realizations (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX realizations_contact ON realizations (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
DROP INDEX realizations_invoice;
CREATE INDEX realizations_invoice ON realizations (invoice_id, created_at, id) WHERE invoice_id IS NOT NULL;

DROP INDEX payments_invoice;
CREATE INDEX payments_invoice ON payments (invoice_id, created_at, id) WHERE invoice_id IS NOT NULL AND deleted_at IS NULL;
DROP INDEX payments_account;
CREATE INDEX payments_account ON payments (account_id, created_at, id) WHERE account_id IS NOT NULL;
CREATE INDEX payments_contact ON payments (contact_id, created_at, id) WHERE contact_id IS NOT NULL;
CREATE INDEX payments_sales_order ON payments (sales_order_id, created_at, id) WHERE sales_order_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX payments_purchase_order ON payments (purchase_order_id, created_at, id) WHERE purchase_order_id IS NOT NULL AND deleted_at IS NULL;

-- The leads converted into a contact or an account (a deal names its own).
CREATE INDEX leads_converted_contact ON leads (converted_contact_id) WHERE converted_contact_id IS NOT NULL;
CREATE INDEX leads_converted_account ON leads (converted_account_id) WHERE converted_account_id IS NOT NULL;
