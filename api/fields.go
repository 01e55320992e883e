package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// hideFields takes the fields the user's role hides out of every answer
// of a record kind's routes — {path}, {path}/{id} and what is under it:
// a record, a page's items, a history's changes — so that no handler can
// forget them. Writes that set a hidden field are refused by the store
// (core.Access.CheckPatch).
func (s *Server) hideFields(c *fiber.Ctx) error {
	if err := c.Next(); err != nil {
		return err
	}
	acc := core.AccessFromContext(c.UserContext())
	if acc == nil || acc.Admin || len(acc.Fields) == 0 {
		return nil
	}
	resp := c.Response()
	if resp.StatusCode() >= 300 || !strings.HasPrefix(string(resp.Header.ContentType()), fiber.MIMEApplicationJSON) {
		return nil
	}
	hidden := acc.HiddenFields(routeEntity(c.Path()))
	if len(hidden) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(resp.Body()))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil // not a JSON document (a stream of something else): nothing of a record in it
	}
	out, err := json.Marshal(withoutFields(v, hidden))
	if err != nil {
		return err
	}
	resp.SetBodyRaw(out)
	return nil
}

// routeEntity is the record kind whose routes a request path is under
// ("/api/v1/deals/…" → "deal"), "" for none: a record's notes, files and
// timeline are items of their own kinds (the store leaves out of a
// timeline what the caller's field rules hide).
func routeEntity(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) == 3 && slices.Contains([]string{"notes", "attachments", "timeline"}, parts[2]) {
		return ""
	}
	return pathEntities()["/"+parts[0]]
}

// withoutFields removes the hidden members from a record, from each item
// of a page, and the changes of hidden fields from a history.
func withoutFields(v any, hidden []string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for _, f := range hidden {
		delete(m, f)
		if key, ok := strings.CutPrefix(f, "custom."); ok {
			if custom, ok := m["custom"].(map[string]any); ok {
				delete(custom, key)
			}
		}
	}
	if changes, ok := m["changes"].([]any); ok {
		m["changes"] = slices.DeleteFunc(changes, func(ch any) bool {
			c, ok := ch.(map[string]any)
			field, _ := c["field"].(string)
			top, _, _ := strings.Cut(field, ".")
			return ok && (slices.Contains(hidden, top) || slices.Contains(hidden, field))
		})
	}
	if items, ok := m["items"].([]any); ok {
		for i := range items {
			items[i] = withoutFields(items[i], hidden)
		}
	}
	return m
}

// withoutHidden returns recs with the hidden fields emptied, for a
// response that is not JSON (a calendar feed): the records go through
// their JSON form, so a field is emptied under the name the rules use.
func withoutHidden[E any](recs []E, hidden []string) ([]E, error) {
	if len(hidden) == 0 {
		return recs, nil
	}
	out := make([]E, len(recs))
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for _, f := range hidden {
			delete(m, f)
		}
		if b, err = json.Marshal(m); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
