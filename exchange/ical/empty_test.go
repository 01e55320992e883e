package ical_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/ical"
)

// TestEmptyCalendarIsAValidFeed: a user with nothing planned (or only
// undated tasks) gets a VCALENDAR with its VERSION and PRODID and no
// component, not an error.
func TestEmptyCalendarIsAValidFeed(t *testing.T) {
	t.Parallel()
	for name, acts := range map[string][]core.Activity{"None": nil, "Undated": {{Subject: "Без даты", Kind: "task"}}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			require.NoError(t, ical.Encode(&b, ical.Calendar{Name: "crmhub: Иванов, Пётр; отдел продаж", Activities: acts, Now: time.Now()}))
			s := b.String()
			require.True(t, strings.HasPrefix(s, "BEGIN:VCALENDAR\r\n"), s)
			require.True(t, strings.HasSuffix(s, "END:VCALENDAR\r\n"), s)
			require.NotContains(t, s, "VEVENT")
			require.Contains(t, s, "X-WR-CALNAME:crmhub: Иванов\\, Пётр\\; отдел продаж\r\n", "text escaped as in any feed")
			cal, err := ics.ParseCalendar(strings.NewReader(s))
			require.NoError(t, err)
			require.Empty(t, cal.Events())
			props := map[string]string{}
			for _, p := range cal.CalendarProperties {
				props[p.IANAToken] = p.Value
			}
			require.Equal(t, "2.0", props["VERSION"])
			require.Equal(t, "-//crmhub//crmhub calendar//RU", props["PRODID"])
		})
	}
}
