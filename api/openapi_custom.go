package api

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// The OpenAPI document as this instance serves it: the static one with
// each kind's custom object typed by its custom fields, so that a client
// generated from it knows them. Without custom fields it is the static
// document, byte for byte.

// customDoc keeps the last document built, for the definitions it was
// built from.
type customDoc struct {
	mu   sync.Mutex
	sum  [32]byte
	body []byte
}

func (s *Server) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if s.deps.CustomFields == nil {
		return c.Send(openapiDoc)
	}
	defs, err := s.deps.CustomFields.AllCustomFields(c.UserContext())
	if err != nil {
		return err
	}
	if len(defs) == 0 {
		return c.Send(openapiDoc)
	}
	body, err := s.custom.get(defs)
	if err != nil {
		return err
	}
	return c.Send(body)
}

// get returns the document for defs, built again only when they changed.
func (d *customDoc) get(defs []core.CustomField) ([]byte, error) {
	key, err := json.Marshal(defs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.body != nil && d.sum == sum {
		return d.body, nil
	}
	body, err := DocumentWith(defs)
	if err != nil {
		return nil, err
	}
	d.sum = sum
	d.body = body
	return body, nil
}

// DocumentWith returns the OpenAPI document with defs: each kind's
// <Kind>Custom schema lists its fields' values (and nothing else), its
// <Kind>CustomPatch what a write may set, and its list takes a
// custom.<key> parameter per field.
func DocumentWith(defs []core.CustomField) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		return nil, fmt.Errorf("the embedded OpenAPI document: %w", err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	paths := doc["paths"].(map[string]any)
	byEntity := map[string][]core.CustomField{}
	for _, f := range defs {
		byEntity[f.Entity] = append(byEntity[f.Entity], f)
	}
	for entity, fields := range byEntity {
		name := recordSchemas[entity]
		if name == "" {
			continue
		}
		values := map[string]any{}
		patch := map[string]any{}
		for i := range fields {
			values[fields[i].Key] = valueSchema(&fields[i], false)
			patch[fields[i].Key] = valueSchema(&fields[i], true)
		}
		custom := schemas[name+"Custom"].(map[string]any)
		custom["properties"] = values
		custom["additionalProperties"] = false
		write := schemas[name+"CustomPatch"].(map[string]any)
		write["properties"] = patch
		write["additionalProperties"] = false
		if list, ok := paths["/api/v1"+core.EntityPath(entity)].(map[string]any)["get"].(map[string]any); ok {
			list["parameters"] = append(asList(list["parameters"]), filterParams(fields)...)
		}
	}
	return json.MarshalIndent(doc, "", " ")
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// valueSchema is the JSON Schema of a field's value as a record holds it,
// or as a write may give it (null removes it; a decimal may come as a
// number).
func valueSchema(f *core.CustomField, write bool) map[string]any {
	s := map[string]any{"description": describe(f)}
	typ := "string"
	switch f.Type {
	case core.FieldText, core.FieldTextarea:
		if write { // a record may hold a longer one from before an edit of max_length
			s["maxLength"] = f.MaxLength
		}
	case core.FieldInteger:
		typ = "integer"
	case core.FieldDecimal, core.FieldMoney:
		scale := f.Scale
		if f.Type == core.FieldMoney {
			scale = 2
		}
		if !write {
			s["pattern"] = decimalPattern(scale)
		}
	case core.FieldDate:
		s["format"] = "date"
	case core.FieldDateTime:
		s["format"] = "date-time"
	case core.FieldBoolean:
		typ = "boolean"
	case core.FieldPicklist:
		s["enum"] = optionCodes(f, write)
	case core.FieldMultiPicklist:
		typ = "array"
		s["maxItems"] = core.MaxMultiValues
		s["items"] = map[string]any{"type": "string", "enum": optionCodes(f, false)}
	case core.FieldEmail:
		s["format"] = "email"
	case core.FieldLink:
		s["format"] = "uuid"
	}
	types := []any{typ}
	if write && (f.Type == core.FieldDecimal || f.Type == core.FieldMoney) {
		types = append(types, "number")
	}
	if write {
		types = append(types, "null")
	}
	if len(types) == 1 {
		s["type"] = typ
	} else {
		s["type"] = types
	}
	return s
}

func decimalPattern(scale int) string {
	if scale == 0 {
		return `^-?[0-9]+$`
	}
	return fmt.Sprintf(`^-?[0-9]+\.[0-9]{%d}$`, scale)
}

// optionCodes lists a picklist's codes: all of them in what a record may
// hold (a retired one stays on its records), and null too for a write.
func optionCodes(f *core.CustomField, write bool) []any {
	out := []any{}
	for _, o := range f.Options {
		out = append(out, o.Code)
	}
	if write {
		out = append(out, nil)
	}
	return out
}

func describe(f *core.CustomField) string {
	parts := []string{f.Label.RU}
	if f.Label.EN != "" {
		parts = append(parts, f.Label.EN)
	}
	d := strings.Join(parts, " / ")
	if f.Type == core.FieldLink {
		d += ": the id of a " + f.LinkEntity
	}
	if f.Description != "" {
		d += ". " + f.Description
	}
	return d
}

// filterParams are the list parameters of custom fields: a value for
// each, a range for the filterable ordered ones.
func filterParams(fields []core.CustomField) []any {
	var out []any
	for i := range fields {
		f := &fields[i]
		desc := describe(f)
		if f.Type == core.FieldPicklist || f.Type == core.FieldMultiPicklist {
			desc += " (codes separated by commas: any of them)"
		}
		out = append(out, map[string]any{"name": "custom." + f.Key, "in": "query", "required": false,
			"description": desc, "schema": map[string]any{"type": "string"}})
		if f.Filterable && f.Type.Ranged() {
			for _, b := range []string{"from", "to"} {
				out = append(out, map[string]any{"name": "custom." + f.Key + "." + b, "in": "query", "required": false,
					"description": f.Label.RU + ": " + b + " (inclusive)", "schema": map[string]any{"type": "string"}})
			}
		}
	}
	return out
}
