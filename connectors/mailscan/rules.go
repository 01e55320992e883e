package mailscan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/crmhub/crmhub/core"
)

// Condition operators of a scanner rule, compared case-insensitively;
// the body is compared as plain text.
const (
	OpContains    = "contains"
	OpNotContains = "not_contains"
	OpEquals      = "equals"
	OpNotEquals   = "not_equals"
	OpBeginsWith  = "begins_with"
	OpEndsWith    = "ends_with"
	OpRegex       = "regex"
)

var (
	ops    = []string{OpContains, OpNotContains, OpEquals, OpNotEquals, OpBeginsWith, OpEndsWith, OpRegex}
	fields = []string{"from", "to", "cc", "subject", "body"}
)

// Condition tests one part of a message (core.MailCondition).
type Condition = core.MailCondition

// Rule is a mailbox's rule (core.MailRule).
type Rule = core.MailRule

// DefaultDocumentPattern matches the hub's default document numbers.
const DefaultDocumentPattern = `[А-ЯЁA-Z]{1,4}-\d{4}-\d{3,10}`

type compiledCond struct {
	Condition
	value string
	re    *regexp.Regexp
}

type compiledRule struct {
	Rule
	conds []compiledCond
	doc   *regexp.Regexp
}

// Rules are a mailbox's compiled rules and its default action.
type Rules struct {
	rules []compiledRule
	def   core.MailStep
}

// maxPattern bounds a rule's regular expression (Go's regexp runs in
// linear time, but a huge program is still a denial of service).
const maxPattern = 1000

// CompileRules checks and compiles rules; defaultAction ("" for none)
// applies when no rule finds a record, owner by default.
func CompileRules(rules []Rule, defaultAction, owner string) (*Rules, error) {
	out := &Rules{}
	for i, r := range rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" {
			r.Name = fmt.Sprintf("rule %d", i+1)
		}
		if r.Match == "" {
			r.Match = "all"
		}
		if r.Match != "all" && r.Match != "any" {
			return nil, fmt.Errorf("%s.match: all or any, not %q", where, r.Match)
		}
		if !slices.Contains(core.MailActions, r.Action) {
			return nil, fmt.Errorf("%s.action: one of %s, not %q", where, strings.Join(core.MailActions, ", "), r.Action)
		}
		if r.Owner == "" {
			r.Owner = owner
		}
		cr := compiledRule{Rule: r}
		for j, c := range r.Conditions {
			cw := fmt.Sprintf("%s.conditions[%d]", where, j)
			if !slices.Contains(fields, c.Field) {
				return nil, fmt.Errorf("%s.field: one of %s, not %q", cw, strings.Join(fields, ", "), c.Field)
			}
			if !slices.Contains(ops, c.Operator) {
				return nil, fmt.Errorf("%s.operator: one of %s, not %q", cw, strings.Join(ops, ", "), c.Operator)
			}
			cc := compiledCond{Condition: c, value: strings.ToLower(c.Value)}
			if c.Operator == OpRegex {
				if len(c.Value) > maxPattern {
					return nil, fmt.Errorf("%s.value: a pattern of at most %d bytes", cw, maxPattern)
				}
				re, err := regexp.Compile("(?i)" + c.Value)
				if err != nil {
					return nil, fmt.Errorf("%s.value: %w", cw, err)
				}
				cc.re = re
			}
			cr.conds = append(cr.conds, cc)
		}
		if r.Action == core.MailLinkDeal {
			p := r.DocumentPattern
			if p == "" {
				p = DefaultDocumentPattern
			}
			if len(p) > maxPattern {
				return nil, fmt.Errorf("%s.document_pattern: at most %d bytes", where, maxPattern)
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%s.document_pattern: %w", where, err)
			}
			cr.doc = re
		}
		out.rules = append(out.rules, cr)
	}
	if defaultAction != "" {
		if !slices.Contains(core.MailActions, defaultAction) || defaultAction == core.MailLinkDeal {
			return nil, fmt.Errorf("default_action: one of create_lead, create_contact, create_account, link_from, link_to, skip, not %q", defaultAction)
		}
		out.def = core.MailStep{Rule: "default", Action: defaultAction, OwnerID: owner}
	}
	return out, nil
}

// Steps returns the actions of the rules a message matches, in order,
// then the default: the store applies the first that finds a record.
func (rs *Rules) Steps(m *core.InboundMail) []core.MailStep {
	var steps []core.MailStep
	for _, r := range rs.rules {
		if !r.matches(m) {
			continue
		}
		st := core.MailStep{Rule: r.Name, Action: r.Action, OwnerID: r.Owner}
		if r.doc != nil {
			st.DocumentNumber = r.doc.FindString(m.Subject)
		}
		steps = append(steps, st)
		if r.Action == core.MailSkip || strings.HasPrefix(r.Action, "create_") {
			return steps // these always settle the message
		}
	}
	if rs.def.Action != "" {
		steps = append(steps, rs.def)
	}
	return steps
}

func (r compiledRule) matches(m *core.InboundMail) bool {
	if len(r.conds) == 0 {
		return r.Match == "any"
	}
	for _, c := range r.conds {
		ok := c.test(m)
		if r.Match == "any" && ok {
			return true
		}
		if r.Match == "all" && !ok {
			return false
		}
	}
	return r.Match == "all"
}

// test applies a condition; for to and cc, any recipient matching is
// enough (and for not_contains / not_equals, every one must pass).
func (c compiledCond) test(m *core.InboundMail) bool {
	var vals []string
	switch c.Field {
	case "from":
		vals = []string{strings.TrimSpace(m.FromName + " <" + m.From + ">")}
		if m.FromName == "" {
			vals = []string{m.From}
		}
	case "to":
		vals = append(append(vals, m.To...), m.Cc...)
	case "cc":
		vals = m.Cc
	case "subject":
		vals = []string{m.Subject}
	case "body":
		vals = []string{strings.TrimSpace(m.Text + "\n" + m.Signature)}
	}
	negative := c.Operator == OpNotContains || c.Operator == OpNotEquals
	if len(vals) == 0 {
		vals = []string{""}
	}
	for _, v := range vals {
		ok := c.one(v)
		if negative && !ok {
			return false
		}
		if !negative && ok {
			return true
		}
	}
	return negative
}

func (c compiledCond) one(v string) bool {
	if c.re != nil {
		return c.re.MatchString(v)
	}
	v = strings.ToLower(v)
	switch c.Operator {
	case OpContains:
		return strings.Contains(v, c.value)
	case OpNotContains:
		return !strings.Contains(v, c.value)
	case OpEquals:
		return strings.TrimSpace(v) == strings.TrimSpace(c.value)
	case OpNotEquals:
		return strings.TrimSpace(v) != strings.TrimSpace(c.value)
	case OpBeginsWith:
		return strings.HasPrefix(v, c.value)
	case OpEndsWith:
		return strings.HasSuffix(strings.TrimSpace(v), c.value)
	}
	return false
}
