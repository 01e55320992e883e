package api

import "github.com/crmhub/crmhub/core"

// recordPaths are the kinds of core.RecordKinds, the records with notes,
// files and a timeline ({path}/{id}/notes, …/attachments, …/timeline):
// path → entity.
var recordPaths = map[string]string{
	"/leads": core.EntityLead, "/accounts": core.EntityAccount, "/contacts": core.EntityContact,
	"/deals": core.EntityDeal, "/activities": core.EntityActivity, "/calls": core.EntityCall,
	"/products": core.EntityProduct, "/services": core.EntityService, "/quotes": core.EntityQuote,
	"/sales-orders": core.EntitySalesOrder, "/purchase-orders": core.EntityPurchaseOrder,
	"/invoices": core.EntityInvoice, "/acts": core.EntityAct, "/realizations": core.EntityRealization,
	"/payments": core.EntityPayment,
}
