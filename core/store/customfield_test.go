package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func leadIDs(t *testing.T, s *store.Store, ctx context.Context, filters ...core.CustomFilter) []string {
	t.Helper()
	page, err := s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Limit: 50, Sort: core.Sort{Field: "created_at"}, Custom: filters}})
	require.NoError(t, err)
	var ids []string
	for _, l := range page.Items {
		ids = append(ids, l.Company)
	}
	return ids
}

func TestCustomFields(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()

	seg, err := s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "segment", "label": {"ru": "Сегмент", "en": "Segment"},
		"type": "picklist", "options": [{"code": "retail", "label": {"ru": "Розница", "en": "Retail"}}, {"code": "b2b", "label": {"ru": "Опт", "en": "Wholesale"}}],
		"filterable": true}`))
	require.NoError(t, err)
	require.Equal(t, 10, seg.Position, "the first field comes first")
	_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer", "filterable": true}`))
	require.NoError(t, err)
	_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "inn2", "label": {"ru": "ИНН филиала"}, "type": "text", "max_length": 12, "unique": true}`))
	require.NoError(t, err)
	_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "partner", "label": {"ru": "Партнёр"}, "type": "link", "link_entity": "account"}`))
	require.NoError(t, err)
	_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "region", "label": {"ru": "Регион"}, "type": "text", "required": true, "default": "Москва"}`))
	require.NoError(t, err)
	defs, err := s.CustomFields(ctx, core.EntityLead)
	require.NoError(t, err)
	require.Len(t, defs, 5)
	require.Equal(t, "segment", defs[0].Key)
	require.Equal(t, 50, defs[4].Position)

	var a, b, c *core.Lead
	t.Run("ValuesLiveWithTheRecord", func(t *testing.T) {
		a, err = s.Leads().Create(ctx, patch(t, `{"last_name": "Иванов", "company": "А", "custom": {"segment": "retail", "staff": 12, "inn2": "7701"}}`))
		require.NoError(t, err)
		require.Equal(t, core.CustomValues{"segment": "retail", "staff": int64(12), "inn2": "7701", "region": "Москва"}, a.Custom)
		got, err := s.Leads().Get(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, "retail", got.Custom["segment"])
		require.EqualValues(t, 12, got.Custom["staff"])
		require.Equal(t, "Москва", got.Custom["region"], "the default")

		b, err = s.Leads().Create(ctx, patch(t, `{"last_name": "Петров", "company": "Б", "custom": {"segment": "b2b", "staff": 40}}`))
		require.NoError(t, err)
		c, err = s.Leads().Create(ctx, patch(t, `{"last_name": "Сидоров", "company": "В"}`))
		require.NoError(t, err)
		require.Equal(t, core.CustomValues{"region": "Москва"}, c.Custom)
	})

	t.Run("ChangesAreEventsThatNameTheKey", func(t *testing.T) {
		up, err := s.Leads().Update(ctx, a.ID, a.Version, patch(t, `{"custom": {"segment": "b2b", "staff": 12}}`))
		require.NoError(t, err)
		require.Equal(t, a.Version+1, up.Version)
		ev := events(t, s, a.ID)
		require.Equal(t, []string{"custom.segment"}, ev[len(ev)-1].Changed, "staff kept its value")
		require.Equal(t, map[string]any{"segment": "b2b", "staff": float64(12), "inn2": "7701", "region": "Москва"}, ev[len(ev)-1].Data["custom"])

		same, err := s.Leads().Update(ctx, a.ID, 0, patch(t, `{"custom": {"staff": 12}}`))
		require.NoError(t, err)
		require.Equal(t, up.Version, same.Version, "an unchanged value writes nothing")

		_, err = s.Leads().Update(ctx, a.ID, 0, patch(t, `{"title": "CEO", "custom": {"segment": "wholesale", "nope": 1}}`))
		require.Equal(t, []string{"custom.nope:unknown_field", "custom.segment:invalid_choice"}, errorList(err))
		_, err = s.Leads().Update(ctx, a.ID, 0, patch(t, `{"custom": {"region": null}}`))
		require.Equal(t, []string{"custom.region:required"}, errorList(err))
		a, err = s.Leads().Update(ctx, a.ID, 0, patch(t, `{"custom": {"segment": "retail"}}`))
		require.NoError(t, err)
	})

	t.Run("Filters", func(t *testing.T) {
		require.Equal(t, []string{"А"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "segment", Value: "retail"}))
		require.Equal(t, []string{"А", "Б"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "segment", Value: "retail,b2b"}))
		require.Equal(t, []string{"Б"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "staff", From: "13"}))
		require.Equal(t, []string{"А"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "staff", From: "12", To: "39"}))
		require.Equal(t, []string{"А"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "staff", Value: "12"}), "a number equals through its index")
		require.Equal(t, []string{"А", "Б", "В"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "region", Value: "Москва"}))
		require.Equal(t, []string{"Б"}, leadIDs(t, s, ctx, core.CustomFilter{Key: "segment", Value: "b2b"}, core.CustomFilter{Key: "region", Value: "Москва"}))

		_, err := s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"},
			Custom: []core.CustomFilter{{Key: "nope", Value: "1"}, {Key: "segment", Value: "wholesale"}, {Key: "region", From: "А"}, {Key: "staff", To: "много"}}}})
		require.ElementsMatch(t, []string{"custom.nope:unknown_parameter", "custom.segment:invalid_choice", "custom.region:not_filterable",
			"custom.staff:invalid_type"}, errorList(err))
		_, err = s.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"},
			Custom: []core.CustomFilter{{Key: "segment", Value: "retail"}}}})
		require.Equal(t, []string{"custom.segment:unknown_parameter"}, errorList(err), "a lead's field is not a contact's")
	})

	t.Run("UniqueUnderConcurrency", func(t *testing.T) {
		_, err := s.Leads().Update(ctx, b.ID, 0, patch(t, `{"custom": {"inn2": "7701"}}`))
		require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
		require.Contains(t, err.Error(), "custom.inn2")

		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Leads().Create(ctx, patch(t, fmt.Sprintf(`{"last_name": "Гонка%d", "company": "Г", "custom": {"inn2": "5000"}}`, i)))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.Equal(t, core.ECONFLICT, core.ErrorCode(err), err)
			}
		}
		require.Equal(t, 1, won, "one of eight writers of the same value wins")
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM leads WHERE custom->>'inn2' = '5000'`))
	})

	t.Run("LinksNameRecordsThatExist", func(t *testing.T) {
		_, err := s.Leads().Update(ctx, c.ID, 0, patch(t, `{"custom": {"partner": "0190a8e2-0000-7000-8000-000000000001"}}`))
		require.Equal(t, []string{"custom.partner:not_found"}, errorList(err))
		acc, err := s.Accounts().Create(ctx, patch(t, `{"name": "ООО Партнёр"}`))
		require.NoError(t, err)
		up, err := s.Leads().Update(ctx, c.ID, 0, patch(t, fmt.Sprintf(`{"custom": {"partner": %q}}`, acc.ID)))
		require.NoError(t, err)
		require.Equal(t, acc.ID, up.Custom["partner"])
	})

	t.Run("DefinitionEdits", func(t *testing.T) {
		f, err := s.UpdateCustomField(ctx, core.EntityLead, "segment", 0, patch(t, `{"options": [{"code": "retail", "label": {"ru": "Розница"}, "retired": true},
			{"code": "b2b", "label": {"ru": "Опт"}}, {"code": "gov", "label": {"ru": "Госзаказ"}}], "label": {"ru": "Сегмент рынка"}}`))
		require.NoError(t, err)
		require.EqualValues(t, 2, f.Version)
		require.Equal(t, "Сегмент рынка", f.Label.RU)
		_, err = s.Leads().Update(ctx, b.ID, 0, patch(t, `{"custom": {"segment": "retail"}}`))
		require.Equal(t, []string{"custom.segment:invalid_choice"}, errorList(err), "a retired option is not chosen again")
		_, err = s.Leads().Update(ctx, a.ID, 0, patch(t, `{"title": "CFO"}`))
		require.NoError(t, err, "a record holding a retired option keeps it")

		_, err = s.UpdateCustomField(ctx, core.EntityLead, "segment", 0, patch(t, `{"type": "text", "options": [{"code": "b2b", "label": {"ru": "Опт"}}]}`))
		require.Equal(t, []string{"options:not_supported"}, errorList(err), "a text has no options: a type change clears them")
		_, err = s.UpdateCustomField(ctx, core.EntityLead, "segment", 1, patch(t, `{"description": "x"}`))
		require.Equal(t, core.EPRECONDITION, core.ErrorCode(err))
		_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "segment", "label": {"ru": "С"}, "type": "text"}`))
		require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
		_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "company", "label": {"ru": "С"}, "type": "text"}`))
		require.Equal(t, []string{"key:builtin_field"}, errorList(err))
		_, err = s.CreateCustomField(ctx, core.EntityPipeline, patch(t, `{"key": "x", "label": {"ru": "С"}, "type": "text"}`))
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))

		ev := events(t, s, f.ID)
		require.Len(t, ev, 2)
		require.Equal(t, "custom_field.created", ev[0].Type)
		require.Equal(t, "custom_field.updated", ev[1].Type)
		require.Contains(t, ev[1].Changed, "options")
	})

	t.Run("DeleteKeepsValuesForARestore", func(t *testing.T) {
		before, err := s.Leads().Get(ctx, a.ID)
		require.NoError(t, err)
		_, err = s.DeleteCustomField(ctx, core.EntityLead, "inn2")
		require.NoError(t, err)
		got, err := s.Leads().Get(ctx, a.ID)
		require.NoError(t, err)
		require.NotContains(t, got.Custom, "inn2")
		require.Equal(t, before.Version, got.Version, "the field went, not the record's data")
		_, err = s.Leads().Update(ctx, b.ID, 0, patch(t, `{"custom": {"inn2": "7701"}}`))
		require.Equal(t, []string{"custom.inn2:unknown_field"}, errorList(err))
		_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "inn2", "label": {"ru": "С"}, "type": "text"}`))
		require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "a deleted key waits for its restore or purge")

		f, err := s.RestoreCustomField(ctx, core.EntityLead, "inn2")
		require.NoError(t, err)
		require.True(t, f.Unique)
		got, err = s.Leads().Get(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, "7701", got.Custom["inn2"])
		_, err = s.Leads().Update(ctx, b.ID, 0, patch(t, `{"custom": {"inn2": "7701"}}`))
		require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "unique again")

		_, err = s.DeleteCustomField(ctx, core.EntityLead, "inn2")
		require.NoError(t, err)
		n, err := s.PurgeCustomFields(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "kept 30 days")
		_, err = s.Pool().Exec(ctx, `UPDATE custom_fields SET deleted_at = now() - interval '31 days' WHERE key = 'inn2'`)
		require.NoError(t, err)
		n, err = s.PurgeCustomFields(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Zero(t, count(t, s, `SELECT count(*) FROM leads WHERE custom_deleted ? 'inn2' OR custom ? 'inn2'`))
		_, err = s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "inn2", "label": {"ru": "С"}, "type": "text"}`))
		require.NoError(t, err, "a purged key is free")
	})
}

// TestCustomFieldSortAndSearch pages through records sorted by a custom
// number and a custom text, those without a value first, and finds them
// by a searchable one.
func TestCustomFieldSortAndSearch(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	_, err := s.CreateCustomField(ctx, core.EntityContact, patch(t, `{"key": "rank", "label": {"ru": "Ранг"}, "type": "decimal", "scale": 1, "sortable": true}`))
	require.NoError(t, err)
	_, err = s.CreateCustomField(ctx, core.EntityContact, patch(t, `{"key": "city", "label": {"ru": "Город"}, "type": "text", "sortable": true, "searchable": true}`))
	require.NoError(t, err)
	_, err = s.CreateCustomField(ctx, core.EntityContact, patch(t, `{"key": "memo", "label": {"ru": "Памятка"}, "type": "text"}`))
	require.NoError(t, err)
	for _, c := range []string{`"Б", "custom": {"rank": "10", "city": "Тула"}`, `"А", "custom": {"rank": "-2.5", "city": "Абакан"}`,
		`"В", "custom": {"rank": "9.9"}`, `"Г"`, `"Д", "custom": {"rank": "10", "city": "Яр"}`} {
		_, err := s.Contacts().Create(ctx, patch(t, `{"last_name": `+c+`}`))
		require.NoError(t, err)
	}
	order := func(sort core.Sort) []string {
		var names []string
		p := core.ContactFilter{ListParams: core.ListParams{Sort: sort, Limit: 2}}
		for {
			page, err := s.Contacts().List(ctx, p)
			require.NoError(t, err)
			for _, c := range page.Items {
				names = append(names, c.LastName)
			}
			if page.NextCursor == "" {
				return names
			}
			p.Cursor = page.NextCursor
		}
	}
	require.Equal(t, []string{"Г", "А", "В", "Б", "Д"}, order(core.Sort{Field: "custom.rank"}), "as numbers, none first, ties by id")
	require.Equal(t, []string{"Д", "Б", "В", "А", "Г"}, order(core.Sort{Field: "custom.rank", Desc: true}))
	require.Equal(t, []string{"В", "Г", "А", "Б", "Д"}, order(core.Sort{Field: "custom.city"}))

	found, err := s.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10, Query: "тул"}})
	require.NoError(t, err)
	require.Len(t, found.Items, 1)
	require.Equal(t, "Б", found.Items[0].LastName, "q finds a searchable custom text")
	found, err = s.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10, Query: "Д"}})
	require.NoError(t, err)
	require.Len(t, found.Items, 1, "and the built-in fields still")

	_, err = s.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "custom.memo"}, Limit: 2}})
	require.Equal(t, []string{"sort:invalid_choice"}, errorList(err), "not sortable")
	var plan string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*)::text FROM pg_indexes WHERE indexname IN ('cf_contacts_rank_sort', 'cf_contacts_city_sort')`).Scan(&plan))
	require.Equal(t, "2", plan, "each sortable field has its index")
}

// errorList lists an error's field errors as field:code.
func errorList(err error) []string {
	var out []string
	for _, e := range core.ErrorFields(err) {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

// TestCustomFieldsInReports groups deals by a custom picklist (named by
// its options' labels), sums a custom money field within the groups and
// filters by a custom number; the catalog lists them.
func TestCustomFieldsInReports(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	for _, def := range []string{`{"key": "margin", "label": {"ru": "Маржа"}, "type": "money"}`,
		`{"key": "channel", "label": {"ru": "Канал"}, "type": "picklist", "options": [{"code": "web", "label": {"ru": "Сайт"}}, {"code": "call", "label": {"ru": "Звонок"}}]}`,
		`{"key": "seats", "label": {"ru": "Места"}, "type": "integer"}`,
		`{"key": "tags", "label": {"ru": "Метки"}, "type": "multi_picklist", "options": [{"code": "a", "label": {"ru": "А"}}]}`} {
		_, err := s.CreateCustomField(ctx, core.EntityDeal, patch(t, def))
		require.NoError(t, err)
	}
	for _, c := range []string{`{"margin": "100.50", "channel": "web", "seats": 3}`, `{"margin": "200.00", "channel": "web", "seats": 10}`,
		`{"margin": "50.25", "channel": "call", "seats": 5}`, `{"channel": "call", "seats": 1}`} {
		_, err := s.Deals().Create(ctx, patch(t, `{"name": "Сделка", "custom": `+c+`}`))
		require.NoError(t, err)
	}
	rep := &core.Report{Name: "Маржа по каналам", ReportDefinition: core.ReportDefinition{Entity: "deal",
		GroupBy:    []core.ReportGroup{{Field: "custom.channel"}},
		Aggregates: []core.ReportAggregate{{Fn: "count"}, {Fn: "sum", Field: "custom.margin"}},
		Filters: &core.ReportFilter{Op: "and", Conditions: []core.ReportCondition{
			{Field: "custom.seats", Operator: "greater_or_equal", Value: json.RawMessage(`2`)}}}}}
	res, err := s.Reports().Run(ctx, rep, core.ReportRun{})
	require.NoError(t, err)
	require.Equal(t, [][]any{{"call", int64(1), "50.25"}, {"web", int64(2), "300.50"}}, res.Rows)
	require.Equal(t, "Канал", res.Columns[0].Label)
	require.Equal(t, map[string]string{"web": "Сайт", "call": "Звонок"}, res.Columns[0].Labels)

	_, err = s.Reports().Run(ctx, &core.Report{Name: "x", ReportDefinition: core.ReportDefinition{Entity: "deal",
		Columns: []string{"custom.tags"}}}, core.ReportRun{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a multi-picklist is not a report field")

	cat, err := s.Reports().Catalog(ctx)
	require.NoError(t, err)
	var keys []string
	for _, e := range cat {
		if e.Name == "deal" {
			for _, f := range e.Fields {
				keys = append(keys, f.Key+":"+f.Type)
			}
		}
	}
	require.Subset(t, keys, []string{"custom.margin:money", "custom.channel:text", "custom.seats:integer"})
}

// TestCustomFieldTypeChange converts stored values when every one
// converts, and refuses with counts when some do not, changing nothing.
func TestCustomFieldTypeChange(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	_, err := s.CreateCustomField(ctx, core.EntityAccount, patch(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "text", "filterable": true}`))
	require.NoError(t, err)
	var ids []string
	for _, v := range []string{`"12"`, `"1 200"`, `"много"`, `"около 5"`} {
		a, err := s.Accounts().Create(ctx, patch(t, `{"name": "ООО `+v[1:len(v)-1]+`", "custom": {"staff": `+v+`}}`))
		require.NoError(t, err)
		ids = append(ids, a.ID)
	}
	_, err = s.UpdateCustomField(ctx, core.EntityAccount, "staff", 0, patch(t, `{"type": "integer", "max_length": null}`))
	require.Equal(t, []string{"type:values_do_not_convert"}, errorList(err))
	require.Contains(t, err.Error(), "2 of 4 stored values do not convert to integer")
	require.Contains(t, err.Error(), "«много»")
	got, err := s.Accounts().Get(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, "12", got.Custom["staff"], "nothing changed")
	f, err := s.CustomField(ctx, core.EntityAccount, "staff")
	require.NoError(t, err)
	require.Equal(t, core.FieldText, f.Type)

	for _, id := range ids[2:] {
		_, err := s.Accounts().Update(ctx, id, 0, patch(t, `{"custom": {"staff": null}}`))
		require.NoError(t, err)
	}
	f, err = s.UpdateCustomField(ctx, core.EntityAccount, "staff", 0, patch(t, `{"type": "integer", "max_length": null}`))
	require.NoError(t, err)
	require.Equal(t, core.FieldInteger, f.Type)
	got, err = s.Accounts().Get(ctx, ids[1])
	require.NoError(t, err)
	require.EqualValues(t, 1200, got.Custom["staff"], "«1 200» read as a number")
	page, err := s.Accounts().List(ctx, core.AccountFilter{ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"},
		Custom: []core.CustomFilter{{Key: "staff", From: "100"}}}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "a range over the converted numbers, through the new index")
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM pg_indexes WHERE indexname = 'cf_accounts_staff_eq' AND indexdef LIKE '%::numeric%'`),
		"the field's index holds numbers now")

	_, err = s.UpdateCustomField(ctx, core.EntityAccount, "staff", 0, patch(t, `{"type": "text"}`))
	require.NoError(t, err)
	got, err = s.Accounts().Get(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, "12", got.Custom["staff"], "and back to text")
	require.Zero(t, count(t, s, `SELECT count(*) FROM pg_indexes WHERE indexname = 'cf_accounts_staff_eq' AND indexdef LIKE '%::numeric%'`),
		"and texts again")
}
