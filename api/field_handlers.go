package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// The schema of each kind with custom fields: its built-in fields as the
// OpenAPI document describes them, and the custom ones admins define.

func (s *Server) mountFields(v1 fiber.Router) {
	if s.deps.CustomFields == nil {
		return
	}
	v1.Get("/fields/:entity", need(core.ScopeRead), s.listFields)
	v1.Post("/fields/:entity", area(core.AreaFields), jsonBody, s.idempotent, s.createField)
	v1.Get("/fields/:entity/:key", need(core.ScopeRead), s.getField)
	v1.Patch("/fields/:entity/:key", area(core.AreaFields), jsonBody, s.updateField)
	v1.Delete("/fields/:entity/:key", area(core.AreaFields), s.deleteField)
	v1.Post("/fields/:entity/:key/restore", area(core.AreaFields), s.restoreField)
}

// fieldEntity returns the path's entity when it carries custom fields and
// the caller may see its records.
func fieldEntity(c *fiber.Ctx) (string, error) {
	entity := c.Params("entity")
	if !slices.Contains(core.CustomFieldEntities(), entity) {
		return "", core.Errorf(core.ENOTFOUND, "%q records have no fields to describe: one of %s", entity,
			strings.Join(core.CustomFieldEntities(), ", "))
	}
	if acc := core.AccessFromContext(c.UserContext()); acc != nil && acc.Level(entity, core.ActView) == core.LevelNone {
		return "", core.Forbidden(entity, core.ActView)
	}
	return entity, nil
}

// fieldInfo is one field of a kind's records as GET /fields lists it: a
// built-in one (from the OpenAPI document) or a custom one.
type fieldInfo struct {
	Key      string `json:"key"`
	Builtin  bool   `json:"builtin"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	// ReadOnly: the hub sets it; a write may not.
	ReadOnly    bool     `json:"read_only"`
	MaxLength   int      `json:"max_length,omitempty"`
	Options     []string `json:"options,omitempty"`
	Description string   `json:"description,omitempty"`
	// Definition is a custom field's.
	Definition *core.CustomField `json:"definition,omitempty"`
}

func (s *Server) listFields(c *fiber.Ctx) error {
	entity, err := fieldEntity(c)
	if err != nil {
		return err
	}
	defs, err := s.deps.CustomFields.CustomFields(c.UserContext(), entity)
	if err != nil {
		return err
	}
	doc, err := s.doc.get()
	if err != nil {
		return err
	}
	items := builtinFields(doc, entity)
	for i := range defs {
		d := &defs[i]
		items = append(items, fieldInfo{Key: "custom." + d.Key, Type: string(d.Type), Required: d.Required,
			MaxLength: d.MaxLength, Description: d.Description, Definition: d})
	}
	return c.JSON(fiber.Map{"entity": entity, "items": items})
}

func (s *Server) getField(c *fiber.Ctx) error {
	entity, err := fieldEntity(c)
	if err != nil {
		return err
	}
	f, err := s.deps.CustomFields.CustomField(c.UserContext(), entity, c.Params("key"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(f.Version))
	return c.JSON(f)
}

func (s *Server) createField(c *fiber.Ctx) error {
	entity, err := fieldEntity(c)
	if err != nil {
		return err
	}
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	f, err := s.deps.CustomFields.CreateCustomField(c.UserContext(), entity, p)
	if err != nil {
		return err
	}
	s.auditField(c, core.OpCreated, f)
	c.Location("/api/v1/fields/" + entity + "/" + f.Key)
	c.Set(fiber.HeaderETag, etag(f.Version))
	return c.Status(fiber.StatusCreated).JSON(f)
}

func (s *Server) updateField(c *fiber.Ctx) error {
	entity, err := fieldEntity(c)
	if err != nil {
		return err
	}
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	f, err := s.deps.CustomFields.UpdateCustomField(c.UserContext(), entity, c.Params("key"), v, p)
	if err != nil {
		return err
	}
	s.auditField(c, core.OpUpdated, f)
	c.Set(fiber.HeaderETag, etag(f.Version))
	return c.JSON(f)
}

func (s *Server) deleteField(c *fiber.Ctx) error {
	entity, err := fieldEntity(c)
	if err != nil {
		return err
	}
	if err := s.formsNaming(c, entity, c.Params("key")); err != nil {
		return err
	}
	f, err := s.deps.CustomFields.DeleteCustomField(c.UserContext(), entity, c.Params("key"))
	if err != nil {
		return err
	}
	s.auditField(c, core.OpDeleted, f)
	return c.SendStatus(fiber.StatusNoContent)
}

// formsNaming refuses to delete a custom field a web form fills, one of
// the config file's or one defined through the API (every submission
// would be refused for it): ECONFLICT naming the forms.
func (s *Server) formsNaming(c *fiber.Ctx, entity, key string) error {
	var forms []core.WebForm
	if s.deps.WebForms != nil {
		stored, err := s.deps.WebForms.WebForms(c.UserContext())
		if err != nil {
			return err
		}
		forms = stored
	}
	if s.deps.ConfigForms != nil {
		forms = append(forms, s.deps.ConfigForms()...)
	}
	var slugs []string
	for _, f := range forms {
		target := f.Target
		if target == "" {
			target = core.FormTargetLead
		}
		if target == entity && f.NamesCustomField(key) {
			slugs = append(slugs, f.Slug)
		}
	}
	if len(slugs) > 0 {
		return core.Errorf(core.ECONFLICT, "web forms %s fill custom.%s: take it out of them first", strings.Join(slugs, ", "), key)
	}
	return nil
}

func (s *Server) restoreField(c *fiber.Ctx) error {
	entity, err := fieldEntity(c)
	if err != nil {
		return err
	}
	f, err := s.deps.CustomFields.RestoreCustomField(c.UserContext(), entity, c.Params("key"))
	if err != nil {
		return err
	}
	s.auditField(c, "restored", f)
	c.Set(fiber.HeaderETag, etag(f.Version))
	return c.JSON(f)
}

// auditField records a change of a kind's schema: what was done to which
// field, by whom, from where, with the request's definition.
func (s *Server) auditField(c *fiber.Ctx, op string, f *core.CustomField) {
	detail := map[string]any{"op": op, "entity": f.Entity, "key": f.Key}
	if json.Valid(c.Body()) {
		detail["patch"] = json.RawMessage(c.Body())
	}
	b, _ := json.Marshal(detail)
	if err := s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditFieldChange, Entity: core.EntityCustomField,
		RecordID: f.ID, IP: c.IP(), Detail: b}); err != nil {
		s.log.Error("audit", "error", err, "action", core.AuditFieldChange, "request_id", requestID(c))
	}
}

// recordSchemas names each kind's schemas in the OpenAPI document: the
// record, and what a create takes.
var recordSchemas = map[string]string{core.EntityLead: "Lead", core.EntityContact: "Contact", core.EntityAccount: "Account",
	core.EntityDeal: "Deal", core.EntityActivity: "Activity", core.EntityProduct: "Product", core.EntityService: "Service",
	core.EntityQuote: "Quote", core.EntitySalesOrder: "SalesOrder", core.EntityInvoice: "Invoice", core.EntityAct: "Act",
	core.EntityRealization: "Realization", core.EntityPayment: "Payment"}

// apiDoc is the parts of the OpenAPI document the API reads itself.
type apiDoc struct {
	Components struct {
		Schemas map[string]docSchema `json:"schemas"`
	} `json:"components"`
}

type docSchema struct {
	Type        json.RawMessage      `json:"type"`
	Format      string               `json:"format"`
	Pattern     string               `json:"pattern"`
	Enum        []any                `json:"enum"`
	MaxLength   int                  `json:"maxLength"`
	Ref         string               `json:"$ref"`
	Description string               `json:"description"`
	Required    []string             `json:"required"`
	Properties  map[string]docSchema `json:"properties"`
	Items       *docSchema           `json:"items"`
}

// docOnce reads the embedded document once, when first asked.
type docOnce struct {
	once sync.Once
	doc  *apiDoc
	err  error
}

func (o *docOnce) get() (*apiDoc, error) {
	o.once.Do(func() {
		var d apiDoc
		if err := json.Unmarshal(openapiDoc, &d); err != nil {
			o.err = fmt.Errorf("the embedded OpenAPI document: %w", err)
			return
		}
		o.doc = &d
	})
	return o.doc, o.err
}

// moneyPattern is how the document writes a money string's pattern.
var moneyPattern = regexp.MustCompile(`\\\.\[0-9\]\{1,2\}`)

// builtinFields lists entity's built-in fields in the document's order of
// the record schema's properties: required when a create must give them,
// read-only when neither a create nor a patch takes them.
func builtinFields(d *apiDoc, entity string) []fieldInfo {
	name := recordSchemas[entity]
	rec := d.Components.Schemas[name]
	create := d.Components.Schemas[name+"Create"]
	patch := d.Components.Schemas[name+"Patch"]
	keys := make([]string, 0, len(rec.Properties))
	for k := range rec.Properties {
		if k != "custom" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]fieldInfo, 0, len(keys))
	for _, k := range keys {
		p := rec.Properties[k]
		_, creatable := create.Properties[k]
		_, patchable := patch.Properties[k]
		f := fieldInfo{Key: k, Builtin: true, Type: docType(p), Required: slices.Contains(create.Required, k),
			ReadOnly: !creatable && !patchable, MaxLength: p.MaxLength, Description: p.Description}
		for _, e := range p.Enum {
			if s, ok := e.(string); ok {
				f.Options = append(f.Options, s)
			}
		}
		out = append(out, f)
	}
	return out
}

// docType is a property's type in the custom fields' terms where one
// fits: text, integer, decimal, money, date, datetime, boolean, picklist,
// id; else object or array.
func docType(p docSchema) string {
	var t string
	var types []string
	if json.Unmarshal(p.Type, &t) == nil {
		types = []string{t}
	} else {
		_ = json.Unmarshal(p.Type, &types)
	}
	t = "object"
	for _, x := range types {
		if x != "null" {
			t = x
			break
		}
	}
	switch {
	case p.Ref != "":
		return "object"
	case t == "string" && len(p.Enum) > 0:
		return "picklist"
	case t == "string" && p.Format == "date":
		return "date"
	case t == "string" && p.Format == "date-time":
		return "datetime"
	case t == "string" && p.Format == "uuid":
		return "id"
	case t == "string" && moneyPattern.MatchString(p.Pattern):
		return "money"
	case t == "string" && p.Pattern != "" && strings.Contains(p.Pattern, `\.`):
		return "decimal"
	case t == "string":
		return "text"
	case t == "number":
		return "decimal"
	}
	return t
}
