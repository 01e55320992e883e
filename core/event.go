package core

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Event is one change to a CRM record, written to the outbox in the same
// transaction as the change itself and later relayed to Kafka.
type Event struct {
	ID            string          `json:"id"`             // UUIDv7
	Type          string          `json:"type"`           // e.g. "lead.created"
	Entity        string          `json:"entity"`         // e.g. "lead"
	EntityID      string          `json:"entity_id"`      // the record's id
	EntityVersion int64           `json:"entity_version"` // the record's version after the change
	OccurredAt    time.Time       `json:"occurred_at"`
	Source        string          `json:"source"`         // "api", "telephony:mango", …
	Actor         string          `json:"actor"`          // API key id or connector name
	CorrelationID string          `json:"correlation_id"` // the request id
	Data          json.RawMessage `json:"data"`           // the record after the change
	Changed       []string        `json:"changed,omitempty"`
}

// Operations that name an event type together with the entity.
const (
	OpCreated = "created"
	OpUpdated = "updated"
	OpDeleted = "deleted"
)

// EventType returns the type name of an event, e.g. "lead.updated".
func EventType(entity, op string) string { return entity + "." + op }

// ChangedFields compares the JSON forms of two versions of a record and
// returns the names of the top-level fields that differ, in the order of
// newer's keys, leaving out the names in ignore (bookkeeping such as
// updated_at and version).
func ChangedFields(older, newer any, ignore ...string) ([]string, error) {
	a, err := jsonFields(older)
	if err != nil {
		return nil, err
	}
	b, err := jsonFields(newer)
	if err != nil {
		return nil, err
	}
	skip := make(map[string]bool, len(ignore))
	for _, n := range ignore {
		skip[n] = true
	}
	var changed []string
	for _, k := range b.keys {
		if !skip[k] && string(a.values[k]) != string(b.values[k]) {
			changed = append(changed, k)
		}
	}
	if _, was := a.values["custom"]; was && !slices.Contains(b.keys, "custom") {
		changed = append(changed, "custom") // every custom value cleared
	}
	if i := slices.Index(changed, "custom"); i >= 0 {
		changed = slices.Delete(changed, i, i+1)
		changed = append(changed, changedCustom(a.values["custom"], b.values["custom"])...)
	}
	return changed, nil
}

// changedCustom names the custom values that differ as custom.key, in key
// order.
func changedCustom(older, newer json.RawMessage) []string {
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal(older, &a) // absent or null: no values
	_ = json.Unmarshal(newer, &b)
	var out []string
	for k, v := range b {
		if string(a[k]) != string(v) {
			out = append(out, "custom."+k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, "custom."+k)
		}
	}
	slices.Sort(out)
	return out
}

type orderedFields struct {
	keys   []string
	values map[string]json.RawMessage
}

func jsonFields(v any) (orderedFields, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return orderedFields{}, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return orderedFields{}, err
	}
	keys, err := objectKeys(raw)
	return orderedFields{keys: keys, values: m}, err
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(raw []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// entityPaths are the API collections whose records are read one by one at
// {path}/{id}: where a consumer fetches the record of a reference event.
var entityPaths = map[string]string{
	EntityLead: "/leads", EntityAccount: "/accounts", EntityContact: "/contacts", EntityDeal: "/deals",
	EntityActivity: "/activities", EntityUser: "/users", EntityPipeline: "/pipelines", EntityCall: "/calls",
	EntityProduct: "/products", EntityService: "/services", EntityProductGroup: "/product-groups",
	EntityPriceBook: "/price-books", EntityQuote: "/quotes", EntityInvoice: "/invoices",
	EntitySalesOrder: "/sales-orders", EntityPurchaseOrder: "/purchase-orders", EntityAct: "/acts",
	EntityRealization: "/realizations", EntityPayment: "/payments", EntityEmail: "/emails",
	EntityReport: "/reports", EntityReportSchedule: "/report-schedules", EntityRole: "/roles", EntityTeam: "/teams",
}

// EntityPath is the API collection of an entity's records, e.g. "/leads",
// or "" when its records are not read one by one.
func EntityPath(entity string) string { return entityPaths[entity] }

// EventRef is what a reference event carries instead of the record when
// the record is too large for one stream message: enough to order and
// apply the change, and where to read the record as of that version.
type EventRef struct {
	ID      string   `json:"id"`
	Entity  string   `json:"entity"`
	Version int64    `json:"version"`
	Changed []string `json:"changed"`
	// DataRef is the API path of the record at this version
	// (GET /api/v1/{path}/{id}?version=N); empty when the entity has no
	// such route.
	DataRef string `json:"data_ref,omitempty"`
	// Size is the byte size of the record left out.
	Size int `json:"size"`
}

// Ref returns the reference that stands for e in the stream.
func (e *Event) Ref() EventRef {
	r := EventRef{ID: e.EntityID, Entity: e.Entity, Version: e.EntityVersion, Changed: e.Changed, Size: len(e.Data)}
	if r.Changed == nil {
		r.Changed = []string{}
	}
	if p := EntityPath(e.Entity); p != "" {
		r.DataRef = "/api/v1" + p + "/" + e.EntityID + "?version=" + strconv.FormatInt(e.EntityVersion, 10)
	}
	return r
}

// StreamedEntities are the kinds whose changes are streamed, a topic each.
func StreamedEntities() []string {
	return []string{EntityLead, EntityAccount, EntityContact, EntityDeal,
		EntityActivity, EntityUser, EntityPipeline, EntityCall, EntityAttachment,
		EntityProduct, EntityService, EntityProductGroup, EntityPriceBook, EntityPrice,
		EntityQuote, EntityInvoice, EntityPayment,
		EntityAct, EntityRealization, EntitySalesOrder, EntityPurchaseOrder, EntityEmail,
		EntityReport, EntityReportSchedule, EntityRole, EntityTeam, EntityCustomField, EntityNote}
}
