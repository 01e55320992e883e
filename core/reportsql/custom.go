package reportsql

import (
	"fmt"
	"maps"
	"strings"

	"github.com/crmhub/crmhub/core"
)

// WithCustom returns the registry with the custom fields defs as fields
// of their entities, each named custom.<key> ("account.custom.okved"
// through a link), typed as the reports type them: numbers to sum and
// average, dates to group by period, picklists with their options'
// labels. The registry itself is left as it is (it is shared); a
// multi-picklist is not a report field (one value per row is).
func (r Registry) WithCustom(defs []core.CustomField) Registry {
	if len(defs) == 0 {
		return r
	}
	out := maps.Clone(r)
	copied := map[string]bool{}
	for i := range defs {
		d := &defs[i]
		e, ok := out[d.Entity]
		typ, expr := customField(d)
		if !ok || typ == "" {
			continue
		}
		if !copied[d.Entity] {
			c := *e
			c.fields = maps.Clone(e.fields)
			e = &c
			out[d.Entity] = e
			copied[d.Entity] = true
		}
		f := rField{expr: expr, typ: typ, label: d.Label.RU}
		if d.Type == core.FieldPicklist {
			f.labels = map[string]string{}
			for _, o := range d.Options {
				f.labels[o.Code] = o.Label.RU
			}
		}
		e.fields["custom."+d.Key] = f
	}
	return out
}

// customField is a custom field's report type and its SQL over the alias
// %[1]s ("" for one a report cannot show). The key is core's checked
// form (latin letters, digits, _), safe to write into SQL.
func customField(d *core.CustomField) (typ, expr string) {
	text := fmt.Sprintf("(%%[1]s.custom->>'%s')", d.Key)
	switch d.Type {
	case core.FieldInteger:
		return rInteger, "(" + text + "::bigint)"
	case core.FieldDecimal:
		return rNumber, "(" + text + "::numeric)"
	case core.FieldMoney:
		return rMoney, "(" + text + "::numeric)"
	case core.FieldDate:
		return rDate, "(" + text + "::date)"
	case core.FieldDateTime:
		return rDatetime, "(" + text + "::timestamptz)"
	case core.FieldBoolean:
		return rBoolean, "(" + text + "::boolean)"
	case core.FieldLink:
		return rID, "(" + text + "::uuid)"
	case core.FieldMultiPicklist:
		return "", ""
	}
	return rText, text
}

// splitKey splits a field key into its link path and field name: the last
// dot separates them, except a custom field's "custom.<key>", which is
// one name.
func splitKey(key string) (path, name string) {
	i := strings.LastIndex(key, ".")
	if i < 0 {
		return "", key
	}
	path, name = key[:i], key[i+1:]
	switch {
	case path == "custom":
		return "", key
	case strings.HasSuffix(path, ".custom"):
		return strings.TrimSuffix(path, ".custom"), "custom." + name
	}
	return path, name
}
