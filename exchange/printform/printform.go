// Package printform renders sales documents as the PDF print forms a
// Russian accountant expects: the счёт на оплату,
// the акт об оказании услуг and the коммерческое предложение. Amounts come
// from the totals engine as stored on the document (never recomputed),
// written with a decimal comma and spaces between thousands, dates as
// «27 ноября 2026 г.», the amount in words from core, «--» for an empty
// mandatory detail. The fonts (the Go fonts, with Cyrillic) are embedded,
// so a form renders the same on every machine.
package printform

import (
	"bytes"
	"errors"
	"fmt"
	stdimage "image"
	_ "image/jpeg" // CheckImage decodes JPEG headers
	_ "image/png"  // and PNG ones
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/page"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/orientation"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"
	"github.com/shopspring/decimal"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/crmhub/crmhub/core"
)

// Form names, as the API's ?form= takes them.
const (
	FormQuote   = "quote"
	FormInvoice = "invoice"
	FormAct     = "act"
	// FormSalesOrder is «Заказ покупателя», FormPurchaseOrder «Заказ
	// поставщику».
	FormSalesOrder    = "sales-order"
	FormPurchaseOrder = "purchase-order"
)

// Images are the optional pictures of our organization: PNG or JPEG bytes
// (checked by CheckImage).
type Images struct {
	Logo, Stamp, Signature []byte
}

// MaxImage bounds one picture.
const MaxImage = 2 << 20

// CheckImage checks that b is a PNG or JPEG picture of sensible size.
func CheckImage(b []byte) error {
	if len(b) > MaxImage {
		return fmt.Errorf("the picture is %d bytes; at most %d", len(b), MaxImage)
	}
	cfg, format, err := stdimage.DecodeConfig(bytes.NewReader(b))
	if err != nil || format != "png" && format != "jpeg" {
		return errors.New("not a PNG or JPEG picture")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > 10_000 || cfg.Height > 10_000 {
		return fmt.Errorf("the picture is %d×%d pixels; at most 10000×10000", cfg.Width, cfg.Height)
	}
	return nil
}

// imageCol places a picture in a column of size, scaled to fit.
func imageCol(size int, b []byte, center bool) mcore.Col {
	ext := extension.Jpg
	if bytes.HasPrefix(b, []byte("\x89PNG")) {
		ext = extension.Png
	}
	return image.NewFromBytesCol(size, b, ext, props.Rect{Center: center, Percent: 100})
}

// Party is one side of a document as it is printed.
type Party struct {
	Name, INN, KPP, Address, Phone      string
	BankName, BIK, Account, CorrAccount string
}

// OrgParty is our organization as a party.
func OrgParty(o core.Organization) Party {
	return Party{Name: o.Name, INN: o.INN, KPP: o.KPP, Address: o.LegalAddress, Phone: o.Phone,
		BankName: o.Bank.Name, BIK: o.Bank.BIK, Account: o.Bank.Account, CorrAccount: o.Bank.CorrespondentAccount}
}

// AccountParty is a customer's account as a party (nil: unknown).
func AccountParty(a *core.Account) Party { return PartyOf(core.AccountRequisites(a)) }

// PartyOf is a party as a document froze it.
func PartyOf(r core.PartyRequisites) Party {
	return Party{Name: r.Name, INN: r.INN, KPP: r.KPP, Address: r.Address, Phone: r.Phone, BankName: r.BankName, BIK: r.BIK,
		Account: r.Account, CorrAccount: r.CorrAccount}
}

// Input is what a form is printed from.
type Input struct {
	Form   string
	Doc    *core.DocumentBody
	Seller core.Organization
	Buyer  Party
	// Basis is the «Основание» line (e.g. the invoice an act bills).
	Basis string
	// Until is a quote's validity or an invoice's due date (zero: none).
	Until  time.Time
	Images Images
	// For the tax forms of a realization: the products' catalog details,
	// the УПД status (1 or 2; 0: 1 for a VAT payer, 2 for an exempt one)
	// and the счёт-фактура's edition caption ("": DefaultEdition).
	Goods     map[string]Goods
	UPDStatus int
	Edition   string
	// SchetFakturaNumber is the счёт-фактура's number (its own sequence;
	// "": the document's).
	SchetFakturaNumber string
	// ServicesOnly prints only the service lines (the «Акт» of a
	// realization that carries the delivery).
	ServicesOnly bool
}

// dash stands for an empty mandatory detail.
func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "--"
	}
	return s
}

func money(m core.Money) string { return core.FormatAmount(m.Decimal) }

// partyLine is a party in one line: name, ИНН, КПП, address, phone.
func partyLine(p Party) string {
	parts := []string{dash(p.Name), "ИНН " + dash(p.INN)}
	if p.KPP != "" {
		parts = append(parts, "КПП "+p.KPP)
	}
	parts = append(parts, dash(p.Address))
	if p.Phone != "" {
		parts = append(parts, "тел. "+p.Phone)
	}
	return strings.Join(parts, ", ")
}

const (
	fontFamily = "go"
	rowH       = 5.0 // a table row, in mm
)

var (
	bold   = props.Text{Style: fontstyle.Bold, Size: 9, Family: fontFamily, Top: 1}
	plain  = props.Text{Size: 9, Family: fontFamily, Top: 1}
	small  = props.Text{Size: 7, Family: fontFamily, Top: 0.5}
	rightB = props.Text{Size: 9, Family: fontFamily, Top: 1, Align: align.Right, Right: 1, Style: fontstyle.Bold}
	cellB  = &props.Cell{BorderType: border.Full, BorderThickness: 0.2}
	title  = props.Text{Style: fontstyle.Bold, Size: 13, Family: fontFamily, Top: 2}
)

// Render prints a form as PDF.
func Render(in Input) ([]byte, error) {
	if in.Doc == nil {
		return nil, fmt.Errorf("printform: no document")
	}
	tax := map[string]func(*Input, mcore.Maroto){FormSchetFaktura: (*Input).renderSchetFaktura, FormUPD: (*Input).renderUPD,
		FormTorg12: (*Input).renderTorg12}
	var s *sheet
	render, isTax := tax[in.Form]
	if isTax {
		if in.UPDStatus < 0 || in.UPDStatus > 2 {
			return nil, core.Invalid([]core.FieldError{{Field: "status", Code: "invalid_choice", Message: "a УПД's status is 1 or 2"}})
		}
	} else {
		var err error
		if s, err = sheetOf(in); err != nil {
			return nil, err
		}
	}
	// Each render gets its own copy of the fonts: gofpdf pads font tables
	// by appending to sub-slices of the bytes it is given, which writes
	// into the shared arrays (a data race between concurrent renders, and
	// the package-level font bytes corrupted).
	fonts, err := repository.New().
		AddUTF8FontFromBytes(fontFamily, fontstyle.Normal, bytes.Clone(goregular.TTF)).
		AddUTF8FontFromBytes(fontFamily, fontstyle.Bold, bytes.Clone(gobold.TTF)).
		Load()
	if err != nil {
		return nil, err
	}
	b := config.NewBuilder().WithCustomFonts(fonts).WithDefaultFont(&props.Font{Family: fontFamily, Size: 9}).
		WithLeftMargin(15).WithRightMargin(10).WithTopMargin(10).
		WithAuthor(in.Seller.Name, true).WithCreationDate(in.Doc.Date.Time).
		WithPageNumber(props.PageNumber{Pattern: "Страница {current} из {total}", Place: props.RightBottom, Family: fontFamily, Size: 7})
	if isTax {
		b = b.WithOrientation(orientation.Horizontal).WithMaxGridSize(grid).WithLeftMargin(10).WithTopMargin(7).
			WithTitle(fmt.Sprintf("%s № %s от %s", titles[in.Form], in.PrintedNumber(), core.FormatDateLong(in.Doc.Date.Time)), true)
	} else {
		b = b.WithTitle(s.title, true)
	}
	m := maroto.New(b.Build())
	if isTax {
		render(&in, m)
	} else {
		s.render(m, in.Images)
	}
	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("printform: %w", err)
	}
	return doc.GetBytes(), nil
}

// sheet is a form's content, laid out the same way for every form: a
// preamble, the title, the parties, the items table, the totals, closing
// lines and signatures.
type sheet struct {
	preamble  func(m mcore.Maroto)
	title     string
	parties   [][2]string // label, value
	columns   []column
	rows      [][]string
	totals    [][2]string // label, amount
	summary   []string    // lines after the totals (the count and sum, the amount in words…)
	closing   []string
	signature func(m mcore.Maroto)
}

type column struct {
	name  string
	size  int
	right bool
}

// render lays the sheet out; the items table repeats its header on each
// page and keeps its last row with the totals.
func (s *sheet) render(m mcore.Maroto, img Images) {
	if img.Logo != nil {
		m.AddRow(15, imageCol(3, img.Logo, false), col.New(9))
	}
	if s.preamble != nil {
		s.preamble(m)
	}
	m.AddRow(10, text.NewCol(12, s.title, title))
	m.AddRow(2, line.NewCol(12, props.Line{Thickness: 0.8}))
	for _, p := range s.parties {
		m.AddAutoRow(text.NewCol(3, p[0], bold), text.NewCol(9, p[1], plain))
	}
	m.AddRow(3)
	header := func() {
		cols := make([]mcore.Col, len(s.columns))
		for i, c := range s.columns {
			cols[i] = text.NewCol(c.size, c.name, props.Text{Style: fontstyle.Bold, Size: 8, Family: fontFamily, Top: 1,
				Align: align.Center}).WithStyle(cellB)
		}
		m.AddRow(rowH+1, cols...)
	}
	header()
	totalsH := float64(len(s.totals)+len(s.summary)+4) * rowH
	for i, r := range s.rows {
		need := rowH
		if i == len(s.rows)-1 {
			need += totalsH // the last row stays with the totals
		}
		if !m.FitlnCurrentPage(need) {
			m.AddPages(page.New())
			header()
		}
		cols := make([]mcore.Col, len(s.columns))
		for j, c := range s.columns {
			p := props.Text{Size: 8, Family: fontFamily, Top: 1, Bottom: 1, Left: 1}
			if c.right {
				p.Align = align.Right
				p.Right = 1
			}
			cols[j] = text.NewCol(c.size, r[j], p).WithStyle(cellB)
		}
		m.AddAutoRow(cols...)
	}
	for _, t := range s.totals {
		m.AddRow(rowH, text.NewCol(9, t[0], rightB), text.NewCol(3, t[1], rightB))
	}
	m.AddRow(2)
	for i, l := range s.summary {
		st := plain
		if i == len(s.summary)-1 {
			st = bold
		}
		m.AddAutoRow(text.NewCol(12, l, st))
	}
	for _, l := range s.closing {
		m.AddAutoRow(text.NewCol(12, l, plain))
	}
	m.AddRow(4)
	m.AddRow(2, line.NewCol(12, props.Line{Thickness: 0.8}))
	if s.signature != nil {
		s.signature(m)
	}
	if img.Stamp != nil || img.Signature != nil {
		var cols []mcore.Col
		for _, b := range [][]byte{img.Signature, img.Stamp} {
			if b != nil {
				cols = append(cols, imageCol(3, b, true))
			}
		}
		m.AddRow(30, append(cols, col.New(12-3*len(cols)))...)
	}
}

// sheetLines are the rows a form's items table prints: the document's
// lines with their final amounts, and its shipping and handling as a row
// «Доставка» (a quote, an order or an invoice; a closing document has it
// as a line).
func sheetLines(d *core.DocumentBody) []core.DocumentLine {
	lines := append([]core.DocumentLine{}, d.Lines...)
	if d.ShippingAmount.IsZero() {
		return lines
	}
	sh := d.Shipping()
	price := core.NewMoney(sh.Amount)
	return append(lines, core.DocumentLine{Name: "Доставка", Kind: core.KindService, Quantity: core.Quantity{Decimal: decimal.NewFromInt(1)},
		Unit: "усл. ед.", UnitCode: "876", Price: &price, VATRate: string(sh.VATRate), Amount: price,
		NetAmount: core.NewMoney(sh.Net), VATAmount: core.NewMoney(sh.VAT), TotalAmount: core.NewMoney(sh.Total)})
}

// final is a line's final amount in the document's price terms.
func final(mode string, l core.DocumentLine) decimal.Decimal {
	if mode == string(core.TaxInclusive) {
		return l.TotalAmount.Decimal
	}
	return l.NetAmount.Decimal
}

// priceAfter is the unit price after every discount: the final amount per
// unit, rounded (the amount column keeps the exact figure).
func priceAfter(amount decimal.Decimal, qty core.Quantity) string {
	if qty.IsZero() {
		return core.FormatAmount(decimal.Zero)
	}
	return core.FormatAmount(amount.Div(qty.Decimal).Round(2))
}

// itemRows are the lines as the table prints them: the price after
// discounts and the final amount, which the totals add up.
func itemRows(d *core.DocumentBody, lines []core.DocumentLine) (cols []column, rows [][]string) {
	cols = []column{{"№", 1, false}, {"Товары (работы, услуги)", 6, false}, {"Кол-во", 1, true}, {"Ед.", 1, false},
		{"Цена", 1, true}, {"Сумма", 2, true}}
	for i, l := range lines {
		f := final(d.TaxMode, l)
		rows = append(rows, []string{fmt.Sprint(i + 1), dash(l.Name), core.FormatQuantity(l.Quantity.Decimal), dash(l.Unit),
			priceAfter(f, l.Quantity), core.FormatAmount(f)})
	}
	return cols, rows
}

// printedTotals are the sums of printed lines: in price terms, VAT per rate
// and with VAT.
type printedTotals struct {
	final, total decimal.Decimal
	vat          map[string]decimal.Decimal
}

func sumLines(mode string, lines []core.DocumentLine) printedTotals {
	t := printedTotals{vat: map[string]decimal.Decimal{}}
	for _, l := range lines {
		t.final, t.total = t.final.Add(final(mode, l)), t.total.Add(l.TotalAmount.Decimal)
		t.vat[l.VATRate] = t.vat[l.VATRate].Add(l.VATAmount.Decimal)
	}
	return t
}

// totalLines are the totals block as the reference writes it for the
// document's tax mode, with VAT per rate: sums of the printed lines.
func totalLines(d *core.DocumentBody, t printedTotals, vatExempt bool) [][2]string {
	inclusive := d.TaxMode == string(core.TaxInclusive)
	out := [][2]string{{"Итого:", core.FormatAmount(t.final)}}
	rates := 0
	for _, r := range core.VATRates() {
		v, ok := t.vat[string(r)]
		if !ok {
			continue
		}
		rates++
		switch {
		case vatExempt || r == core.VATNone:
			out = append(out, [2]string{"Без налога (НДС)", "-"})
		case inclusive:
			out = append(out, [2]string{fmt.Sprintf("В том числе НДС (%s%%):", r), core.FormatAmount(v)})
		default:
			out = append(out, [2]string{fmt.Sprintf("Сумма НДС (%s%%):", r), core.FormatAmount(v)})
		}
	}
	if rates == 0 {
		out = append(out, [2]string{"Без налога (НДС)", "-"})
	}
	return append(out, [2]string{"Всего к оплате:", core.FormatAmount(t.total)})
}

func countLine(what string, n int, t printedTotals, currency string) string {
	return fmt.Sprintf("%s %d, на сумму %s %s", what, n, core.FormatAmount(t.total), unitOf(currency))
}

// unitOf is how a sum names its currency: «руб.» for roubles, else the
// ISO code.
func unitOf(currency string) string {
	if currency == "" || currency == core.BaseCurrency {
		return "руб."
	}
	return currency
}

// inRoubles is the line under a foreign-currency document's total: the
// Bank of Russia's rate it was made at and the total in roubles.
func inRoubles(d *core.DocumentBody, total decimal.Decimal) []string {
	if d.Currency == "" || d.Currency == core.BaseCurrency || !d.ConversionRate.IsPositive() {
		return nil
	}
	c := core.CurrencyOf(d.Currency)
	return []string{fmt.Sprintf("Валюта: %s (%s). Курс ЦБ РФ на %s: 1 %s = %s руб.; сумма в рублях: %s руб.", c.Name, d.Currency,
		d.Date.Format("02.01.2006"), d.Currency, strings.Replace(d.ConversionRate.StringFixed(4), ".", ",", 1),
		core.FormatAmount(total.Mul(d.ConversionRate).Round(2)))}
}

// signatures prints one or two signature columns.
func signatures(sides ...[]string) func(m mcore.Maroto) {
	return func(m mcore.Maroto) {
		size := 12 / len(sides)
		for i := 0; ; i++ {
			any := false
			cols := make([]mcore.Col, len(sides))
			for j, side := range sides {
				v := ""
				if i < len(side) {
					v, any = side[i], true
				}
				st := plain
				if i == 0 {
					st = bold
				}
				cols[j] = text.NewCol(size, v, st)
			}
			if !any {
				return
			}
			m.AddAutoRow(cols...)
		}
	}
}

// signer is a signature line; an unknown name is left for the hand.
func signer(role, name string) string {
	if name == "" {
		name = "________________"
	}
	return strings.TrimSpace(role + " ____________________ /" + name + "/")
}

func sheetOf(in Input) (*sheet, error) {
	d := in.Doc
	seller := OrgParty(in.Seller)
	lines := sheetLines(d)
	if in.ServicesOnly {
		lines = services(lines)
	}
	if len(lines) == 0 {
		return nil, core.Invalid([]core.FieldError{{Field: "form", Code: "no_lines", Message: "the document has no lines this form prints"}})
	}
	cols, rows := itemRows(d, lines)
	t := sumLines(d.TaxMode, lines)
	s := &sheet{columns: cols, rows: rows, totals: totalLines(d, t, in.Seller.VATExempt)}
	words := core.AmountInWordsIn(t.total, currencyOr(d.Currency))
	note := inRoubles(d, t.total)
	if d.DiscountTotal.IsPositive() {
		note = append(note, "Цены и суммы указаны с учётом скидки "+money(d.DiscountTotal)+" "+unitOf(d.Currency))
	}
	switch in.Form {
	case FormInvoice:
		s.preamble = bankBlock(seller)
		s.title = fmt.Sprintf("Счёт на оплату № %s от %s", d.Number, core.FormatDateLong(d.Date.Time))
		s.parties = [][2]string{{"Поставщик (Исполнитель):", partyLine(seller)}, {"Покупатель (Заказчик):", partyLine(in.Buyer)}}
		if in.Basis != "" {
			s.parties = append(s.parties, [2]string{"Основание:", in.Basis})
		}
		s.summary = append(note, countLine("Всего наименований", len(lines), t, d.Currency), words)
		if !in.Until.IsZero() {
			s.closing = []string{"Оплатить не позднее " + core.FormatDateLong(in.Until)}
		}
		s.signature = signatures([]string{signer("Руководитель", in.Seller.Director)},
			[]string{signer("Бухгалтер", in.Seller.ChiefAccountant)})
	case FormAct:
		s.title = fmt.Sprintf("Акт № %s от %s", d.Number, core.FormatDateLong(d.Date.Time))
		s.columns[1].name = "Наименование работ, услуг"
		s.parties = [][2]string{{"Исполнитель:", partyLine(seller)}, {"Заказчик:", partyLine(in.Buyer)},
			{"Основание:", dash(in.Basis)}}
		s.summary = append(inRoubles(d, t.total), countLine("Всего оказано услуг", len(lines), t, d.Currency), words)
		s.closing = []string{"Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объему, " +
			"качеству и срокам оказания услуг не имеет."}
		s.signature = signatures(
			[]string{"ИСПОЛНИТЕЛЬ", dash(in.Seller.Name), "Руководитель", signer("", in.Seller.Director), "М.П."},
			[]string{"ЗАКАЗЧИК", dash(in.Buyer.Name), "Должность ____________________", signer("", ""), "М.П."})
	case FormSalesOrder, FormPurchaseOrder:
		name, us, them := "Заказ покупателя", "Поставщик (Исполнитель):", "Покупатель (Заказчик):"
		sides := [2]Party{seller, in.Buyer}
		if in.Form == FormPurchaseOrder {
			name, us, them = "Заказ поставщику", "Заказчик (Покупатель):", "Поставщик (Исполнитель):"
		}
		s.title = fmt.Sprintf("%s № %s от %s", name, d.Number, core.FormatDateLong(d.Date.Time))
		s.parties = [][2]string{{us, partyLine(sides[0])}, {them, partyLine(sides[1])}}
		s.summary = append(note, countLine("Всего наименований", len(lines), t, d.Currency), words)
		if !in.Until.IsZero() {
			s.closing = []string{"Срок исполнения: " + core.FormatDateLong(in.Until)}
		}
		s.signature = signatures([]string{signer("Руководитель", in.Seller.Director)}, []string{signer("Бухгалтер", in.Seller.ChiefAccountant)})
	case FormQuote:
		s.title = fmt.Sprintf("Коммерческое предложение № %s от %s", d.Number, core.FormatDateLong(d.Date.Time))
		s.parties = [][2]string{{"От:", partyLine(seller)}, {"Кому:", partyLine(in.Buyer)}}
		if d.Subject != "" {
			s.parties = append(s.parties, [2]string{"Тема:", d.Subject})
		}
		s.summary = append(note, countLine("Всего наименований", len(lines), t, d.Currency), words)
		if !in.Until.IsZero() {
			s.closing = append(s.closing, "Предложение действительно до "+core.FormatDateLong(in.Until))
		}
		if d.Terms != "" {
			s.closing = append(s.closing, d.Terms)
		}
		s.signature = signatures([]string{signer("Руководитель", in.Seller.Director)})
	default:
		return nil, fmt.Errorf("printform: unknown form %q", in.Form)
	}
	return s, nil
}

// currencyOr is a document's currency, roubles when it has none.
func currencyOr(c string) string {
	if c == "" {
		return core.BaseCurrency
	}
	return c
}

// services are the service lines of a document.
func services(lines []core.DocumentLine) []core.DocumentLine {
	var out []core.DocumentLine
	for _, l := range lines {
		if l.Kind == core.KindService || l.ServiceID != nil {
			out = append(out, l)
		}
	}
	return out
}

// goodsOnly are the lines of a document that are not services: what a
// waybill (ТОРГ-12) lists.
func goodsOnly(lines []core.DocumentLine) []core.DocumentLine {
	var out []core.DocumentLine
	for _, l := range lines {
		if l.Kind != core.KindService && l.ServiceID == nil {
			out = append(out, l)
		}
	}
	return out
}

// bankBlock is the invoice's bordered grid shaped like a payment order.
func bankBlock(p Party) func(m mcore.Maroto) {
	return func(m mcore.Maroto) {
		c := func(size int, s string, st props.Text, b border.Type) mcore.Col {
			return text.NewCol(size, s, st).WithStyle(&props.Cell{BorderType: b, BorderThickness: 0.2})
		}
		m.AddRows(
			row.New(rowH).Add(c(7, dash(p.BankName), plain, border.Left|border.Top|border.Right), c(1, "БИК", plain, border.Full),
				c(4, dash(p.BIK), plain, border.Left|border.Top|border.Right)),
			row.New(rowH).Add(c(7, "Банк получателя", small, border.Left|border.Bottom|border.Right), c(1, "Сч. №", plain, border.Full),
				c(4, dash(p.CorrAccount), plain, border.Left|border.Bottom|border.Right)),
			row.New(rowH).Add(c(3, "ИНН "+dash(p.INN), plain, border.Full), c(4, "КПП "+p.KPP, plain, border.Full),
				c(1, "Сч. №", plain, border.Left|border.Top|border.Right), c(4, dash(p.Account), plain, border.Left|border.Top|border.Right)),
			row.New(rowH).Add(c(7, dash(p.Name), plain, border.Left|border.Right), c(1, "", plain, border.Left|border.Right),
				c(4, "", plain, border.Left|border.Right)),
			row.New(rowH).Add(c(7, "Получатель", small, border.Left|border.Bottom|border.Right),
				c(1, "", plain, border.Left|border.Bottom|border.Right), c(4, "", plain, border.Left|border.Bottom|border.Right)),
		)
		m.AddRow(4)
	}
}
