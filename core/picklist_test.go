package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestPicklistLookup(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		list *core.Picklist
		in   string
		want string
	}{
		{core.LeadSources(), "Выставка", "trade_show"},
		{core.LeadSources(), "  ВЫСТАВКА ", "trade_show"},
		{core.LeadSources(), "Trade Show", "trade_show"},
		{core.LeadSources(), "trade show", "trade_show"},
		{core.LeadSources(), "trade_show", "trade_show"},
		{core.LeadSources(), "Веб сайт", "web_site"},
		{core.LeadSources(), "E-mail", "email"},
		{core.LeadSources(), "Партнёр", "partner"}, // the label has е
		{core.LeadStatuses(), "Тёплый", "warm"},    // the label has е
		{core.LeadStatuses(), "есть контакт", "contacted"},
		{core.AccountTypes(), "Партнер", "partner"}, // the label has ё
		{core.AccountTypes(), "RESELLER", "reseller"},
		{core.Salutations(), "Г-жа", "ms"}, // Ms. and Mrs. share it: the first wins
		{core.Salutations(), "Mrs.", "mrs"},
	} {
		got, ok := c.list.Lookup(c.in)
		require.True(t, ok, "%s %q", c.list.Name, c.in)
		require.Equal(t, c.want, got, "%s %q", c.list.Name, c.in)
	}
	for _, in := range []string{"", "Ярмарка", "trade"} {
		_, ok := core.LeadSources().Lookup(in)
		require.False(t, ok, in)
	}
	require.Equal(t, "Холодный звонок", core.LeadSources().Labels()[0])
}

func TestPicklistLabel(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Классифицирован", core.LeadStatuses().Label("qualified"))
	require.Equal(t, "lukewarm", core.LeadStatuses().Label("lukewarm"), "a code the picklist lacks is kept")
	require.Empty(t, core.LeadStatuses().Label(""))
	require.Equal(t, "x", core.NewPicklist("p", core.Choice{Code: "x"}).Label("x"), "a choice without a label is its code")
}

func TestActivityStatusesNameEveryKindsStatus(t *testing.T) {
	t.Parallel()
	all := core.ActivityStatuses()
	for _, l := range []*core.Picklist{core.EventStatuses(), core.TaskStatuses()} {
		for _, c := range l.Choices {
			require.Equal(t, c.RU, all.Label(c.Code), c.Code)
		}
	}
	require.Len(t, all.Codes(), 8, "planned is both an event's and a task's, once")
}

func TestContactReportsToItself(t *testing.T) {
	t.Parallel()
	id := "0190a5c0-0000-7000-8000-000000000001"
	c := core.Contact{LastName: "Иванов", ReportsToID: &id}
	require.NoError(t, c.Validate(), "a new contact has no id yet")
	c.ID = id
	require.Equal(t, []core.FieldError{{Field: "reports_to_id", Code: "self_reference", Message: "a contact cannot report to itself"}},
		core.ErrorFields(c.Validate()))
}
