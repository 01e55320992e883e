package commerceml

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/crmhub/crmhub/core"
)

// Limits bound what a document may make the decoder do: these files come
// from outside.
type Limits struct {
	// MaxDepth bounds element nesting. Default 64.
	MaxDepth int
	// MaxElement bounds the bytes of one item (a good, an offer, a
	// document). Default 16 MiB.
	MaxElement int64
}

func (l *Limits) setDefaults() {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxElement <= 0 {
		l.MaxElement = 16 << 20
	}
}

// Error is a decoding failure with where it happened.
type Error struct {
	Line int
	Path string // the element path, e.g. КоммерческаяИнформация/Каталог/Товары/Товар
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, %s: %v", e.Line, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// budget counts the bytes the XML decoder reads, to bound one item.
type budget struct {
	r     io.Reader
	left  int64
	armed bool
}

var errTooBig = errors.New("the element is larger than the limit")

func (b *budget) Read(p []byte) (int, error) {
	if b.armed && b.left <= 0 {
		return 0, errTooBig
	}
	n, err := b.r.Read(p)
	if b.armed {
		b.left -= int64(n)
	}
	return n, err
}

// Decoder reads a CommerceML document item by item.
type Decoder struct {
	d    *xml.Decoder
	b    *budget
	lim  Limits
	path []string
	// pending is an item to hand out before reading on.
	pending any
	// info collects the simple fields of an open Каталог or
	// ПакетПредложений until its first list begins.
	catalog  *Catalog
	package_ *OfferPackage
	classif  *Classifier
}

// NewDecoder reads r: a BOM is skipped, the declared encoding honoured
// (UTF-8 or windows-1251).
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	lim.setDefaults()
	br := bufio.NewReaderSize(r, 64<<10)
	if head, err := br.Peek(3); err == nil && bytes.Equal(head, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	b := &budget{r: br}
	d := xml.NewDecoder(b)
	d.Strict = true
	d.CharsetReader = core.XMLCharsetReader
	return &Decoder{d: d, b: b, lim: lim}
}

func (dec *Decoder) fail(err error) error {
	line, _ := dec.d.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
	}
	return &Error{Line: line, Path: strings.Join(dec.path, "/"), Err: err}
}

// parent is the name of the element enclosing the current one.
func (dec *Decoder) parent(n int) string {
	if len(dec.path) < n {
		return ""
	}
	return dec.path[len(dec.path)-n]
}

// Next returns the next item: *Info, *Classifier, *Catalog,
// *OfferPackage, *Group (a top-level group with its subgroups),
// *Property, *Good, *PriceType, *Warehouse, *Offer or *Document; io.EOF
// at the end of the document.
func (dec *Decoder) Next() (any, error) {
	if p := dec.pending; p != nil {
		dec.pending = nil
		return p, nil
	}
	for {
		tok, err := dec.d.Token()
		if err == io.EOF {
			if len(dec.path) > 0 {
				return nil, dec.fail(io.ErrUnexpectedEOF)
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, dec.fail(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, dec.fail(errors.New("DTDs and entity declarations are refused"))
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, dec.fail(fmt.Errorf("processing instruction %q is refused", t.Target))
			}
		case xml.EndElement:
			name := t.Name.Local
			dec.path = dec.path[:len(dec.path)-1]
			switch name {
			case "Каталог":
				if c := dec.catalog; c != nil {
					dec.catalog = nil
					return c, nil
				}
			case "ПакетПредложений":
				if p := dec.package_; p != nil {
					dec.package_ = nil
					return p, nil
				}
			case "Классификатор":
				if c := dec.classif; c != nil {
					dec.classif = nil
					return c, nil
				}
			}
		case xml.StartElement:
			name := t.Name.Local
			if len(dec.path) >= dec.lim.MaxDepth {
				return nil, dec.fail(fmt.Errorf("elements nest deeper than %d", dec.lim.MaxDepth))
			}
			if len(dec.path) == 0 {
				if name != "КоммерческаяИнформация" {
					return nil, dec.fail(fmt.Errorf("the root element is %q, not КоммерческаяИнформация", name))
				}
				dec.path = append(dec.path, name)
				return &Info{Version: attr(t, "ВерсияСхемы"), Date: attr(t, "ДатаФормирования")}, nil
			}
			if item, ok, err := dec.item(t); ok || err != nil {
				return item, err
			}
			// A list begins: hand out the open container's header first.
			var header any
			switch {
			case dec.catalog != nil && name != "Ид" && name != "ИдКлассификатора" && name != "Наименование" && name != "Владелец" && name != "Описание":
				header, dec.catalog = dec.catalog, nil
			case dec.package_ != nil && name != "Ид" && name != "ИдКаталога" && name != "ИдКлассификатора" && name != "Наименование" && name != "Владелец":
				header, dec.package_ = dec.package_, nil
			case dec.classif != nil && name != "Ид" && name != "Наименование" && name != "Владелец":
				header, dec.classif = dec.classif, nil
			}
			switch name {
			case "Каталог":
				dec.catalog = &Catalog{OnlyChanges: attr(t, "СодержитТолькоИзменения") == "true"}
			case "ПакетПредложений", "ИзмененияПакетаПредложений":
				dec.package_ = &OfferPackage{OnlyChanges: attr(t, "СодержитТолькоИзменения") == "true"}
			case "Классификатор":
				dec.classif = &Classifier{}
			}
			// The simple fields of the open container.
			if header == nil && (name == "Ид" || name == "Наименование" || name == "ИдКлассификатора" || name == "ИдКаталога") {
				if ok, err := dec.field(t); ok || err != nil {
					if err != nil {
						return nil, err
					}
					continue
				}
			}
			if name == "Владелец" && dec.classif != nil && dec.parent(1) == "Классификатор" {
				if err := dec.decode(&dec.classif.Owner, t); err != nil {
					return nil, err
				}
				continue
			}
			dec.path = append(dec.path, name)
			if header != nil {
				return header, nil
			}
		}
	}
}

// field reads the text of a simple field of an open container into it;
// it reports whether it was one.
func (dec *Decoder) field(t xml.StartElement) (bool, error) {
	name := t.Name.Local
	var dst *string
	switch p := dec.parent(1); {
	case p == "Каталог" && dec.catalog != nil:
		dst = map[string]*string{"Ид": &dec.catalog.ID, "ИдКлассификатора": &dec.catalog.ClassifierID, "Наименование": &dec.catalog.Name}[name]
	case (p == "ПакетПредложений" || p == "ИзмененияПакетаПредложений") && dec.package_ != nil:
		dst = map[string]*string{"Ид": &dec.package_.ID, "ИдКаталога": &dec.package_.CatalogID,
			"ИдКлассификатора": &dec.package_.ClassifierID, "Наименование": &dec.package_.Name}[name]
	case p == "Классификатор" && dec.classif != nil:
		dst = map[string]*string{"Ид": &dec.classif.ID, "Наименование": &dec.classif.Name}[name]
	}
	if dst == nil {
		return false, nil
	}
	var s string
	if err := dec.decode(&s, t); err != nil {
		return true, err
	}
	*dst = strings.TrimSpace(s)
	return true, nil
}

// item decodes an item element whole (bounded by MaxElement); ok reports
// whether t is one in its place.
func (dec *Decoder) item(t xml.StartElement) (any, bool, error) {
	var v any
	switch name, p1, p2 := t.Name.Local, dec.parent(1), dec.parent(2); {
	case name == "Группа" && p1 == "Группы" && p2 == "Классификатор":
		v = &Group{}
	case name == "Свойство" && p1 == "Свойства" && p2 == "Классификатор":
		v = &Property{}
	case name == "Товар" && p1 == "Товары" && p2 == "Каталог":
		v = &Good{}
	case name == "ТипЦены" && p1 == "ТипыЦен":
		v = &PriceType{}
	case name == "Склад" && p1 == "Склады" && (p2 == "ПакетПредложений" || p2 == "ИзмененияПакетаПредложений"):
		v = &Warehouse{}
	case name == "Предложение" && p1 == "Предложения":
		v = &Offer{}
	case name == "Документ" && p1 == "КоммерческаяИнформация":
		v = &Document{}
	default:
		return nil, false, nil
	}
	var header any
	switch {
	case dec.catalog != nil:
		header, dec.catalog = dec.catalog, nil
	case dec.package_ != nil:
		header, dec.package_ = dec.package_, nil
	case dec.classif != nil:
		header, dec.classif = dec.classif, nil
	}
	if err := dec.decode(v, t); err != nil {
		return nil, true, err
	}
	trim(v)
	if header != nil {
		dec.pending = v
		return header, true, nil
	}
	return v, true, nil
}

// decode reads one element into v, within the element budget.
func (dec *Decoder) decode(v any, t xml.StartElement) error {
	dec.path = append(dec.path, t.Name.Local)
	dec.b.left, dec.b.armed = dec.lim.MaxElement, true
	err := dec.d.DecodeElement(v, &t)
	dec.b.armed = false
	if err != nil {
		if errors.Is(err, errTooBig) {
			err = fmt.Errorf("%s is larger than %d bytes", t.Name.Local, dec.lim.MaxElement)
		}
		return dec.fail(err)
	}
	dec.path = dec.path[:len(dec.path)-1]
	return nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// trim tidies decoded values: unit codes carry trailing spaces.
func trim(v any) {
	switch x := v.(type) {
	case *Good:
		x.ID, x.SKU, x.Name = strings.TrimSpace(x.ID), strings.TrimSpace(x.SKU), strings.TrimSpace(x.Name)
		x.Unit.Code = strings.TrimSpace(x.Unit.Code)
		x.Unit.Name = strings.TrimSpace(x.Unit.Name)
	case *Offer:
		x.ID = strings.TrimSpace(x.ID)
		x.Unit.Code = strings.TrimSpace(x.Unit.Code)
		x.Unit.Name = strings.TrimSpace(x.Unit.Name)
	case *Document:
		x.ID = strings.TrimSpace(x.ID)
		x.Number = strings.TrimSpace(x.Number)
		for i := range x.Lines {
			x.Lines[i].ID = strings.TrimSpace(x.Lines[i].ID)
			x.Lines[i].Unit.Code = strings.TrimSpace(x.Lines[i].Unit.Code)
		}
	}
}
