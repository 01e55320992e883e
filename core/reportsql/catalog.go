package reportsql

import (
	"maps"
	"slices"

	"github.com/crmhub/crmhub/core"
)

// Catalog describes the registry as the compiler reads it: the entities,
// their fields and links, each in name order, with picklist labels. read
// runs a field's live label query (a deal stage's names from every
// pipeline), once per query, over the registry's labels.
func (r Registry) Catalog(read func(query string) (map[string]string, error)) ([]core.ReportEntityInfo, error) {
	labels := onceEach(read)
	out := make([]core.ReportEntityInfo, 0, len(r))
	for _, name := range slices.Sorted(maps.Keys(r)) {
		e := r[name]
		info := core.ReportEntityInfo{Name: e.name, Label: e.label, Fields: []core.ReportFieldInfo{}, Links: []core.ReportLinkInfo{}}
		for _, key := range slices.Sorted(maps.Keys(e.fields)) {
			f := e.fields[key]
			fi := core.ReportFieldInfo{Key: key, Label: f.label, Type: f.typ, Labels: f.labels}
			if f.liveLabels != "" {
				live, err := labels(f.liveLabels)
				if err != nil {
					return nil, err
				}
				fi.Labels = core.MergeReportLabels(f.labels, live)
			}
			info.Fields = append(info.Fields, fi)
		}
		for _, link := range slices.Sorted(maps.Keys(e.links)) {
			l := e.links[link]
			info.Links = append(info.Links, core.ReportLinkInfo{Name: link, Entity: l.target, Label: l.label})
		}
		out = append(out, info)
	}
	return out, nil
}
