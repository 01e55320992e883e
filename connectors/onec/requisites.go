package onec

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// RequisitesMap maps 1C's values onto custom fields (onec.requisites_map):
// kind (product for goods, account for counterparties) → 1C name → target
// custom.<key>. A name is a ЗначениеРеквизита's Наименование, or, with the
// prefix property: (goods only), a Свойство's Наименование as the
// classifier names it. Imports read each value into its field by the
// field's type; exports write the field back as a ЗначениеРеквизита of the
// map's name.
type RequisitesMap map[string]map[string]string

// Validate checks the map's kinds, names and targets (whether each target
// is a live field is known only when an exchange runs: one that is not is
// logged and skipped).
func (m RequisitesMap) Validate() error {
	_, err := m.parse()
	return err
}

// only is the map of kind alone (nil when it maps none).
func (m RequisitesMap) only(kind string) RequisitesMap {
	if len(m[kind]) == 0 {
		return nil
	}
	return RequisitesMap{kind: m[kind]}
}

// parse reads the map by kind.
func (m RequisitesMap) parse() (map[string][]core.OneCRequisite, error) {
	out := map[string][]core.OneCRequisite{}
	for _, kind := range slices.Sorted(maps.Keys(m)) {
		maps, err := core.ParseOneCRequisites(kind, m[kind])
		if err != nil {
			return nil, fmt.Errorf("requisites_map.%w", err)
		}
		if len(maps) > 0 {
			out[kind] = maps
		}
	}
	return out, nil
}

// CustomFields gives a kind's live custom field definitions.
type CustomFields interface {
	CustomFields(ctx context.Context, entity string) ([]core.CustomField, error)
}

// requisites is the parsed map with where its fields are defined.
type requisites struct {
	byKind map[string][]core.OneCRequisite
	fields CustomFields
	log    *slog.Logger
}

// newRequisites parses m; fields must be set when m maps anything.
func newRequisites(m RequisitesMap, fields CustomFields, log *slog.Logger) (*requisites, error) {
	byKind, err := m.parse()
	if err != nil {
		return nil, err
	}
	if len(byKind) > 0 && fields == nil {
		return nil, fmt.Errorf("requisites_map: the custom fields are not available")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &requisites{byKind: byKind, fields: fields, log: log}, nil
}

// liveMap is a kind's mappings whose fields exist when a run begins.
type liveMap struct {
	maps []core.OneCRequisite
	defs map[string]*core.CustomField
}

// live reads the kind's live fields for one run (an import of a file, an
// export) and keeps the mappings that target one; each that does not is
// logged once (the run goes on without it). A nil or empty result maps
// nothing.
func (r *requisites) live(ctx context.Context, kind string) (*liveMap, error) {
	if r == nil || len(r.byKind[kind]) == 0 {
		return nil, nil
	}
	defs, err := r.fields.CustomFields(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("read the custom fields of %s: %w", kind, err)
	}
	lm := &liveMap{defs: map[string]*core.CustomField{}}
	for i := range defs {
		lm.defs[defs[i].Key] = &defs[i]
	}
	for _, m := range r.byKind[kind] {
		if _, ok := lm.defs[m.Key]; !ok {
			r.log.Warn("onec_requisite_unmapped", "entity", kind, "name", m.Name, "property", m.Property,
				"target", "custom."+m.Key, "reason", "no such live custom field")
			continue
		}
		lm.maps = append(lm.maps, m)
	}
	return lm, nil
}

// custom reads a good's or a counterparty's mapped values (requisites by
// name, properties through prop) as a write's custom member; nil when
// none is mapped and sent. The errors are the values their fields refuse.
func (lm *liveMap) custom(reqs []commerceml.Requisite, prop func(name string) (string, bool)) (map[string]json.RawMessage, []core.FieldError) {
	if lm == nil || len(lm.maps) == 0 {
		return nil, nil
	}
	vals, errs := core.OneCCustom(lm.maps, lm.defs, func(m core.OneCRequisite) (string, bool) {
		if m.Property {
			if prop == nil {
				return "", false
			}
			return prop(m.Name)
		}
		for _, r := range reqs {
			if strings.EqualFold(strings.TrimSpace(r.Name), m.Name) {
				return r.Value, true
			}
		}
		return "", false
	})
	if len(vals) == 0 {
		return nil, errs
	}
	return vals, errs
}

// requisites writes a record's mapped custom values as the
// ЗначенияРеквизитов 1C reads, named as the map names them, leaving out
// the names the hub writes itself (taken).
func (lm *liveMap) requisites(values core.CustomValues, taken []commerceml.Requisite) []commerceml.Requisite {
	if lm == nil {
		return nil
	}
	var out []commerceml.Requisite
	for _, m := range lm.maps {
		text, ok := core.OneCText(lm.defs[m.Key], values[m.Key])
		if !ok || slices.ContainsFunc(taken, func(r commerceml.Requisite) bool { return strings.EqualFold(r.Name, m.Name) }) {
			continue
		}
		out = append(out, commerceml.Requisite{Name: m.Name, Value: text})
	}
	return out
}

// customProblem is the job's line for values a record's fields refused:
// where, then each custom.key with its message.
func customProblem(where string, errs []core.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + ": " + e.Message
	}
	return where + ": " + strings.Join(parts, "; ")
}
