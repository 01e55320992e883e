package commerceml

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Encoding of a written document.
const (
	UTF8        = "UTF-8"
	Windows1251 = "windows-1251" // what most 1C setups read best
)

// Encoder writes a document of orders (the mode=query answer): the root,
// then each document as it comes, so any number of them streams out.
type Encoder struct {
	w        *bufio.Writer
	e        *xml.Encoder
	encoding string
	started  bool
}

// NewEncoder writes to w in encoding (UTF8 or Windows1251).
func NewEncoder(w io.Writer, encoding string) (*Encoder, error) {
	var out io.Writer = w
	switch strings.ToLower(encoding) {
	case "", "utf-8":
		encoding = UTF8
	case "windows-1251":
		encoding = Windows1251
		out = charmap.Windows1251.NewEncoder().Writer(w)
	default:
		return nil, fmt.Errorf("commerceml: encoding %q: UTF-8 or windows-1251", encoding)
	}
	bw := bufio.NewWriter(out)
	return &Encoder{w: bw, e: xml.NewEncoder(bw), encoding: encoding}, nil
}

// Begin writes the declaration and the root (version 2.08, the date as
// given, YYYY-MM-DDThh:mm:ss).
func (e *Encoder) Begin(date string) error {
	if _, err := fmt.Fprintf(e.w, "<?xml version=\"1.0\" encoding=\"%s\"?>\n", e.encoding); err != nil {
		return err
	}
	e.started = true
	return e.e.EncodeToken(xml.StartElement{Name: xml.Name{Local: "КоммерческаяИнформация"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "ВерсияСхемы"}, Value: "2.08"}, {Name: xml.Name{Local: "ДатаФормирования"}, Value: date}}})
}

// Document writes one document.
func (e *Encoder) Document(d *Document) error {
	if !e.started {
		return fmt.Errorf("commerceml: Begin first")
	}
	out := outDocument{Document: d}
	for i := range d.Lines {
		out.Lines = append(out.Lines, outLine{Line: &d.Lines[i]})
	}
	for i := range d.Counterparties {
		out.Counterparties = append(out.Counterparties, outCounterparty{Counterparty: &d.Counterparties[i]})
	}
	return e.e.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: "Документ"}})
}

// End closes the root and flushes.
func (e *Encoder) End() error {
	if err := e.e.EncodeToken(xml.EndElement{Name: xml.Name{Local: "КоммерческаяИнформация"}}); err != nil {
		return err
	}
	if err := e.e.Flush(); err != nil {
		return err
	}
	return e.w.Flush()
}

// outDocument is a Document as 1C reads it: empty fields left out, lines
// with ЦенаЗаЕдиницу, the БазоваяЕдиница code as an attribute.
type outDocument struct {
	*Document      `xml:"-"`
	ID             string            `xml:"Ид"`
	Number         string            `xml:"Номер"`
	Date           string            `xml:"Дата"`
	Time           string            `xml:"Время,omitempty"`
	Operation      string            `xml:"ХозОперация"`
	Role           string            `xml:"Роль"`
	Currency       string            `xml:"Валюта"`
	Rate           string            `xml:"Курс"`
	Sum            string            `xml:"Сумма"`
	Comment        string            `xml:"Комментарий,omitempty"`
	Counterparties []outCounterparty `xml:"Контрагенты>Контрагент"`
	Taxes          []Tax             `xml:"Налоги>Налог,omitempty"`
	Discounts      []Discount        `xml:"Скидки>Скидка,omitempty"`
	Lines          []outLine         `xml:"Товары>Товар"`
	Requisites     []Requisite       `xml:"ЗначенияРеквизитов>ЗначениеРеквизита,omitempty"`
}

type outCounterparty struct {
	*Counterparty `xml:"-"`
	ID            string         `xml:"Ид"`
	Name          string         `xml:"Наименование"`
	FullName      string         `xml:"ПолноеНаименование,omitempty"`
	OfficialName  string         `xml:"ОфициальноеНаименование,omitempty"`
	Role          string         `xml:"Роль"`
	INN           string         `xml:"ИНН,omitempty"`
	KPP           string         `xml:"КПП,omitempty"`
	LastName      string         `xml:"Фамилия,omitempty"`
	FirstName     string         `xml:"Имя,omitempty"`
	Address       string         `xml:"АдресРегистрации>Представление,omitempty"`
	AddressFields []AddressField `xml:"АдресРегистрации>АдресноеПоле,omitempty"`
	Requisites    []Requisite    `xml:"ЗначенияРеквизитов>ЗначениеРеквизита,omitempty"`
}

type outUnit struct {
	Code string `xml:"Код,attr,omitempty"`
	Full string `xml:"НаименованиеПолное,attr,omitempty"`
	Name string `xml:",chardata"`
}

type outLine struct {
	*Line        `xml:"-"`
	ID           string      `xml:"Ид"`
	Name         string      `xml:"Наименование"`
	SKU          string      `xml:"Артикул,omitempty"`
	Unit         outUnit     `xml:"БазоваяЕдиница"`
	PricePerUnit string      `xml:"ЦенаЗаЕдиницу"`
	Quantity     string      `xml:"Количество"`
	Sum          string      `xml:"Сумма"`
	TaxRates     []TaxRate   `xml:"СтавкиНалогов>СтавкаНалога,omitempty"`
	Taxes        []Tax       `xml:"Налоги>Налог,omitempty"`
	Discounts    []Discount  `xml:"Скидки>Скидка,omitempty"`
	Requisites   []Requisite `xml:"ЗначенияРеквизитов>ЗначениеРеквизита,omitempty"`
}

// MarshalXML fills the output fields from the document.
func (o outDocument) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	d := o.Document
	o.ID, o.Number, o.Date, o.Time, o.Operation, o.Role = d.ID, d.Number, d.Date, d.Time, d.Operation, d.Role
	o.Currency, o.Rate, o.Sum, o.Comment = d.Currency, d.Rate, d.Sum, d.Comment
	o.Taxes, o.Discounts, o.Requisites = d.Taxes, d.Discounts, d.Requisites
	for i := range o.Counterparties {
		c := o.Counterparties[i].Counterparty
		o.Counterparties[i] = outCounterparty{Counterparty: c, ID: c.ID, Name: c.Name, FullName: c.FullName,
			OfficialName: c.OfficialName, Role: c.Role, INN: c.INN, KPP: c.KPP, LastName: c.LastName, FirstName: c.FirstName,
			Address: c.Address, AddressFields: c.AddressFields, Requisites: c.Requisites}
	}
	for i := range o.Lines {
		l := o.Lines[i].Line
		o.Lines[i] = outLine{Line: l, ID: l.ID, Name: l.Name, SKU: l.SKU, Unit: outUnit{Code: l.Unit.Code, Full: l.Unit.FullName, Name: l.Unit.Name},
			PricePerUnit: l.Price(), Quantity: l.Quantity, Sum: l.Sum, TaxRates: l.TaxRates, Taxes: l.Taxes, Discounts: l.Discounts,
			Requisites: l.Requisites}
	}
	type plain outDocument // without this method
	return e.EncodeElement(plain(o), start)
}
