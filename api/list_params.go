package api

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

// listQuery parses a list's query string: the parameters every kind shares
// (limit, cursor, sort, q, owner_id, created_from, created_to) and, through
// extra, the kind's own filters. Unknown parameters are an error, so that a
// misspelt filter never silently returns everything.
type listQuery struct {
	params core.ListParams
	errs   []core.FieldError
}

func (l *listQuery) bad(field, code, msg string) {
	l.errs = append(l.errs, core.FieldError{Field: field, Code: code, Message: msg})
}

// parseList reads raw; extra handles a kind's own parameter and reports
// whether it knew it.
func parseList(raw string, sorts []string, extra func(l *listQuery, name, value string) bool) (core.ListParams, error) {
	l := &listQuery{params: core.ListParams{Limit: core.DefaultPageSize, Sort: core.Sort{Field: "created_at", Desc: true}}}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return l.params, core.Invalid([]core.FieldError{{Field: "query", Code: "invalid", Message: "the query string is malformed"}})
	}
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > core.MaxPageSize {
				l.bad(name, "out_of_range", "must be an integer from 1 to "+strconv.Itoa(core.MaxPageSize))
			}
			l.params.Limit = n
		case "cursor":
			l.params.Cursor = v
		case "sort":
			sort, err := core.ParseSort(v, l.params.Sort, sorts...)
			l.errs = append(l.errs, core.ErrorFields(err)...)
			l.params.Sort = sort
		case "q":
			l.params.Query = strings.TrimSpace(v)
			if len([]rune(l.params.Query)) > 200 {
				l.bad(name, "too_long", "must be at most 200 characters")
			}
		case "owner_id":
			l.params.OwnerID = l.id(name, v)
		case "created_from":
			l.params.CreatedFrom = l.time(name, v)
		case "created_to":
			l.params.CreatedTo = l.time(name, v)
		default:
			if key, ok := strings.CutPrefix(name, "custom."); ok {
				l.custom(name, key, v)
			} else if extra == nil || !extra(l, name, v) {
				l.bad(name, "unknown_parameter", "no such filter")
			}
		}
	}
	return l.params, core.Invalid(l.errs)
}

// custom reads a filter on a custom field: custom.key=value (for a
// picklist, codes separated by commas: any of them), custom.key.from and
// custom.key.to (a range, each inclusive). Whether the key exists and the
// value fits its type is the store's to say.
func (l *listQuery) custom(name, key, v string) {
	bound := ""
	for _, b := range []string{".from", ".to"} {
		if k, ok := strings.CutSuffix(key, b); ok {
			key, bound = k, b
		}
	}
	if !core.CustomKeyValid(key) {
		l.bad(name, "unknown_parameter", "no such filter: a custom field's key is lowercase latin letters, digits and _")
		return
	}
	i := slices.IndexFunc(l.params.Custom, func(f core.CustomFilter) bool { return f.Key == key })
	if i < 0 {
		l.params.Custom = append(l.params.Custom, core.CustomFilter{Key: key})
		i = len(l.params.Custom) - 1
	}
	f := &l.params.Custom[i]
	switch bound {
	case ".from":
		f.From = v
	case ".to":
		f.To = v
	default:
		f.Value = v
	}
}

func (l *listQuery) id(name, v string) string {
	if _, err := uuid.Parse(v); err != nil {
		l.bad(name, "invalid_id", "must be a UUID")
	}
	return v
}

// time reads an RFC 3339 time or a date (midnight UTC).
func (l *listQuery) time(name, v string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t
	}
	l.bad(name, "invalid_time", "must be an RFC 3339 time or a date YYYY-MM-DD")
	return time.Time{}
}

func (l *listQuery) phone(name, v string) string {
	p, ok := core.NormalizePhone(v)
	if !ok {
		l.bad(name, "invalid_phone", "must be a phone number")
	}
	return p
}

func (l *listQuery) email(name, v string) string {
	e, ok := core.NormalizeEmail(v)
	if !ok {
		l.bad(name, "invalid_email", "must be an e-mail address")
	}
	return e
}

func (l *listQuery) boolean(name, v string) bool {
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.bad(name, "invalid_type", "must be true or false")
	}
	return b
}

// choices reads comma-separated picklist codes.
func (l *listQuery) choices(name, v string, pl *core.Picklist) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !pl.Has(s) {
			l.bad(name, "invalid_choice", "must be one or more (comma-separated) of: "+strings.Join(pl.Codes(), ", "))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// externalID reads "system:id", e.g. "onec:8a1b…".
func (l *listQuery) externalID(name, v string) [2]string {
	sys, id, ok := strings.Cut(v, ":")
	if !ok || sys == "" || id == "" {
		l.bad(name, "invalid", "must be system:id, e.g. onec:8a1b2c")
	}
	return [2]string{sys, id}
}

// date reads YYYY-MM-DD.
func (l *listQuery) date(name, v string) core.Date {
	d, err := core.ParseDate(v)
	if err != nil {
		l.bad(name, "invalid_date", "must be a date YYYY-MM-DD")
	}
	return d
}

// codes reads comma-separated codes (such as stage codes, whose validity
// depends on the pipeline).
func (l *listQuery) codes(name, v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 || len(out) > 50 {
		l.bad(name, "invalid", "must be 1 to 50 comma-separated codes")
	}
	return out
}

// serveList parses a list request into params (with the kind's own
// parameters through extra) and serves the page that list returns.
func serveList[T any](c *fiber.Ctx, sorts []string, params *core.ListParams,
	extra func(l *listQuery, name, value string) bool, list func(ctx context.Context) (core.Page[T], error)) error {
	p, err := parseList(c.Context().QueryArgs().String(), sorts, extra)
	if err != nil {
		return err
	}
	*params = p
	if sink, ok := c.Locals(exportKey{}).(rowSink); ok {
		// An export: every page of the same list goes into the workbook.
		params.Limit = exportPage
		params.Cursor = ""
		for {
			page, err := list(c.UserContext())
			if err != nil {
				return err
			}
			for i := range page.Items {
				if err := sink.Write(&page.Items[i]); err != nil {
					return err
				}
			}
			if page.NextCursor == "" || len(page.Items) == 0 {
				return nil
			}
			params.Cursor = page.NextCursor
		}
	}
	page, err := list(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(page)
}
