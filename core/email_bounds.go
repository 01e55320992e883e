package core

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// Bounds of an e-mail template's work: what it renders is an e-mail (and
// its change event), so a template may not make a 100 MB one, nor spin.
const (
	// MaxRenderedEmail bounds a rendered body.
	MaxRenderedEmail = 1 << 20
	// MaxRenderTime bounds rendering a template (checked as it writes).
	MaxRenderTime = 2 * time.Second
	// MaxTemplateRange bounds {{range N}} over a number.
	MaxTemplateRange = 1000
	// MaxTemplateRangeDepth bounds ranges inside ranges: each ranges over
	// a document's lines (at most MaxLines) or a small number.
	MaxTemplateRangeDepth = 2
	// maxFormatWidth bounds printf's widths and precisions.
	maxFormatWidth = 1000
)

// templateFuncs replace the builtins that could make a huge string out of
// a short template.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"printf": func(format string, args ...any) (string, error) {
			if err := checkFormat(format); err != nil {
				return "", err
			}
			return fmt.Sprintf(format, args...), nil
		},
	}
}

var formatWidth = regexp.MustCompile(`%[-+# 0]*(\*|\d+)?(?:\.(\*|\d+))?`)

// checkFormat refuses widths and precisions beyond maxFormatWidth, and
// starred ones (taken from the arguments).
func checkFormat(format string) error {
	for _, m := range formatWidth.FindAllStringSubmatch(format, -1) {
		for _, w := range m[1:] {
			if w == "*" {
				return errors.New("printf: a width or precision from the arguments (*) is not allowed")
			}
			if n, err := strconv.Atoi(w); w != "" && (err != nil || n > maxFormatWidth) {
				return fmt.Errorf("printf: a width or precision of at most %d", maxFormatWidth)
			}
		}
	}
	return nil
}

// checkTemplate refuses what a template may not do: define or call other
// templates (recursion), range over a computed value or over a number
// above MaxTemplateRange, nest ranges deeper than MaxTemplateRangeDepth,
// use printf with a huge width.
func checkTemplate(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return errors.New("{{define}} and {{block}} are not allowed: write the template in one piece")
	}
	if t.Tree == nil || t.Root == nil {
		return nil
	}
	c := checker{t.Tree}
	return c.node(t.Root, 0)
}

// checker walks a template's tree; errors say where (line:column).
type checker struct{ tree *parse.Tree }

func (c checker) at(n parse.Node) string {
	loc, _ := c.tree.ErrorContext(n)
	if i := strings.IndexByte(loc, ':'); i >= 0 {
		loc = loc[i+1:] // the template's name is the field's
	}
	return "at " + loc
}

func (c checker) node(n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, x := range n.Nodes {
			if err := c.node(x, depth); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return c.pipe(n.Pipe)
	case *parse.IfNode:
		return c.branch(&n.BranchNode, depth)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, depth)
	case *parse.RangeNode:
		if depth+1 > MaxTemplateRangeDepth {
			return fmt.Errorf("%s: at most %d ranges inside one another", c.at(n), MaxTemplateRangeDepth)
		}
		if err := c.rangeOver(n); err != nil {
			return err
		}
		if err := c.node(n.List, depth+1); err != nil {
			return err
		}
		return c.node(n.ElseList, depth)
	case *parse.TemplateNode:
		return fmt.Errorf("%s: {{template}} is not allowed: write the template in one piece", c.at(n))
	}
	return nil
}

func (c checker) branch(b *parse.BranchNode, depth int) error {
	if err := c.pipe(b.Pipe); err != nil {
		return err
	}
	if err := c.node(b.List, depth); err != nil {
		return err
	}
	return c.node(b.ElseList, depth)
}

// pipe checks printf's constant formats.
func (c checker) pipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		if len(cmd.Args) > 1 {
			if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "printf" {
				if s, ok := cmd.Args[1].(*parse.StringNode); ok {
					if err := checkFormat(s.Text); err != nil {
						return fmt.Errorf("%s: %w", c.at(p), err)
					}
				}
			}
		}
		for _, a := range cmd.Args {
			if sub, ok := a.(*parse.PipeNode); ok {
				if err := c.pipe(sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rangeOver allows ranging over the data (fields, variables) and over a
// small number.
func (c checker) rangeOver(n *parse.RangeNode) error {
	cmds := n.Pipe.Cmds
	if len(cmds) != 1 || len(cmds[0].Args) != 1 {
		return fmt.Errorf("%s: range only over a field of the data (e.g. {{range .Lines}}) or a number", c.at(n))
	}
	switch a := cmds[0].Args[0].(type) {
	case *parse.FieldNode, *parse.VariableNode, *parse.DotNode, *parse.ChainNode:
		return nil
	case *parse.NumberNode:
		if !a.IsInt || a.Int64 > MaxTemplateRange {
			return fmt.Errorf("%s: range over a number up to %d, got %s", c.at(n), MaxTemplateRange, a.Text)
		}
		return nil
	}
	return fmt.Errorf("%s: range only over a field of the data (e.g. {{range .Lines}}) or a number", c.at(n))
}

// boundedWriter collects a rendering and stops it past max bytes or past
// its deadline.
type boundedWriter struct {
	buf      []byte
	max      int
	deadline time.Time
}

var (
	errRenderTooLarge = fmt.Errorf("the rendered text passes %d bytes", MaxRenderedEmail)
	errRenderTooSlow  = fmt.Errorf("rendering took over %s", MaxRenderTime)
)

func (w *boundedWriter) Write(p []byte) (int, error) {
	if len(w.buf)+len(p) > w.max {
		return 0, errRenderTooLarge
	}
	if time.Now().After(w.deadline) {
		return 0, errRenderTooSlow
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *boundedWriter) String() string { return string(w.buf) }
