// Package ical renders events and tasks as an iCalendar (RFC 5545)
// calendar that Thunderbird, Google Calendar and Apple Calendar subscribe
// to: calls and meetings as VEVENT, tasks as VTODO.
package ical

import (
	"bytes"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goical "github.com/emersion/go-ical"

	"github.com/crmhub/crmhub/core"
)

// Calendar is one user's feed.
type Calendar struct {
	Name       string // shown as the calendar's name
	Activities []core.Activity
	// Now stamps the calendar (DTSTAMP of components without an update time).
	Now time.Time
}

// Encode writes the calendar to w.
func Encode(w io.Writer, c Calendar) error {
	cal := goical.NewCalendar()
	cal.Props.SetText(goical.PropVersion, "2.0")
	cal.Props.SetText(goical.PropProductID, "-//crmhub//crmhub calendar//RU")
	cal.Props.SetText(goical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText("X-WR-CALNAME", c.Name)
	for i := range c.Activities {
		a := &c.Activities[i]
		if a.StartAt == nil {
			continue
		}
		cal.Children = append(cal.Children, component(a, c.Now))
	}
	if len(cal.Children) == 0 {
		_, err := w.Write(fold(empty(cal)))
		return err
	}
	var buf bytes.Buffer
	if err := goical.NewEncoder(&buf).Encode(cal); err != nil {
		return err
	}
	_, err := w.Write(fold(buf.Bytes()))
	return err
}

// empty renders a calendar of no components as the encoder renders one
// with some (its properties sorted by name), which go-ical refuses to:
// a user with nothing planned still has a valid feed, VERSION and PRODID
// and no VEVENT, that calendar clients subscribe to.
func empty(cal *goical.Calendar) []byte {
	var b bytes.Buffer
	b.WriteString("BEGIN:" + goical.CompCalendar + "\r\n")
	for _, name := range slices.Sorted(maps.Keys(cal.Props)) {
		for _, p := range cal.Props[name] {
			b.WriteString(p.Name + ":" + p.Value + "\r\n") // SetText escaped the value
		}
	}
	b.WriteString("END:" + goical.CompCalendar + "\r\n")
	return b.Bytes()
}

// fold breaks content lines longer than 75 octets (RFC 5545 §3.1), which the
// encoder does not: a CRLF and a space before the 76th octet, never inside a
// UTF-8 sequence.
func fold(in []byte) []byte {
	out := make([]byte, 0, len(in)+len(in)/70*3)
	for len(in) > 0 {
		line, rest, found := bytes.Cut(in, []byte("\r\n"))
		limit := 75
		for len(line) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			out = append(out, line[:cut]...)
			out = append(out, "\r\n "...)
			line = line[cut:]
			limit = 74 // the leading space counts
		}
		out = append(out, line...)
		if found {
			out = append(out, "\r\n"...)
		}
		in = rest
	}
	return out
}

func component(a *core.Activity, now time.Time) *goical.Component {
	var comp *goical.Component
	if a.IsEvent() {
		comp = goical.NewComponent(goical.CompEvent)
		comp.Props.SetDateTime(goical.PropDateTimeStart, a.StartAt.UTC())
		if a.EndAt != nil {
			comp.Props.SetDateTime(goical.PropDateTimeEnd, a.EndAt.UTC())
		}
		comp.Props.SetText(goical.PropStatus, eventStatus(a.Status))
	} else {
		comp = goical.NewComponent(goical.CompToDo)
		comp.Props.SetDateTime(goical.PropDateTimeStart, a.StartAt.UTC())
		if a.DueAt != nil {
			comp.Props.SetDateTime(goical.PropDue, a.DueAt.UTC())
		}
		comp.Props.SetText(goical.PropStatus, taskStatus(a.Status))
		if a.CompletedAt != nil {
			comp.Props.SetDateTime(goical.PropCompleted, a.CompletedAt.UTC())
		}
		if p := taskPriority(a.Priority); p != 0 {
			setInteger(comp.Props, goical.PropPriority, p)
		}
	}
	stamp := a.UpdatedAt
	if stamp.IsZero() {
		stamp = now
	}
	comp.Props.SetText(goical.PropUID, a.ID+"@crmhub")
	comp.Props.SetDateTime(goical.PropDateTimeStamp, stamp.UTC())
	comp.Props.SetDateTime(goical.PropLastModified, stamp.UTC())
	setInteger(comp.Props, goical.PropSequence, a.Version)
	comp.Props.SetText(goical.PropSummary, a.Subject)
	if a.Description != "" {
		comp.Props.SetText(goical.PropDescription, a.Description)
	}
	if a.Location != "" {
		comp.Props.SetText(goical.PropLocation, a.Location)
	}
	comp.Props.SetText(goical.PropCategories, strings.ToUpper(a.Kind))
	return comp
}

// eventStatus maps event statuses to VEVENT STATUS: a meeting that did not
// take place is shown cancelled.
func eventStatus(s string) string {
	if s == "not_held" {
		return "CANCELLED"
	}
	return "CONFIRMED"
}

func taskStatus(s string) string {
	switch s {
	case "completed":
		return "COMPLETED"
	case "in_progress", "pending_input":
		return "IN-PROCESS"
	}
	return "NEEDS-ACTION"
}

// taskPriority maps priorities to RFC 5545's 1 (highest) … 9 (lowest); 0
// is none.
func taskPriority(p string) int64 {
	switch p {
	case "high":
		return 1
	case "medium":
		return 5
	case "low":
		return 9
	}
	return 0
}

// setInteger sets an INTEGER property (SEQUENCE, PRIORITY: RFC 5545
// §3.8.7.4, §3.8.1.9) as its default type, without the VALUE=TEXT that
// SetText would give it and that parsers then read as a string.
func setInteger(props goical.Props, name string, n int64) {
	p := goical.NewProp(name)
	p.Value = strconv.FormatInt(n, 10)
	props.Set(p)
}
