package printform

import (
	"fmt"
	"strings"

	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// Tax forms of a realization (a shipment of goods or services): the
// счёт-фактура, the ТОРГ-12 and the УПД that stands for both, landscape.
const (
	FormSchetFaktura = "schet-faktura"
	FormTorg12       = "torg12"
	FormUPD          = "upd"
)

// DefaultEdition is the счёт-фактура's edition caption unless configured.
const DefaultEdition = "(в ред. постановления Правительства РФ от 16 августа 2024 г. № 1096)"

// Goods are the catalog details a tax form prints for a product line.
type Goods struct {
	Code        string // the article (УПД column А, ТОРГ-12 column 3)
	CountryCode string // ОКСМ
	CountryName string
	Customs     string // регистрационный номер декларации
}

// grid is the column grid of the landscape forms.
const grid = 40

var (
	tiny    = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Left: 0.5, Right: 0.5}
	tinyC   = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Align: align.Center}
	tinyR   = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Right: 0.5, Align: align.Right}
	tinyB   = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Left: 0.5, Style: fontstyle.Bold}
	headS   = props.Text{Size: 7, Family: fontFamily, Top: 0.5}
	headB   = props.Text{Size: 10, Family: fontFamily, Top: 1, Style: fontstyle.Bold}
	caption = props.Text{Size: 6, Family: fontFamily, Align: align.Right}
	totalS  = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Right: 0.5, Align: align.Right, Style: fontstyle.Bold}
)

// currencyLine is a счёт-фактура's line (7): the currency's name and its
// ISO numeric code.
func currencyLine(code string) string {
	c := core.CurrencyOf(currencyOr(code))
	if c.Numeric == "" {
		return c.Name
	}
	return c.Name + ", " + c.Numeric
}

func rateText(rate string, exempt bool) string {
	if exempt || rate == string(core.VATNone) || rate == "" {
		return "без НДС"
	}
	return rate + "%"
}

// unitPrice is a line's price without VAT after its discount (column 4).
func unitPrice(l core.DocumentLine) string { return priceAfter(l.NetAmount.Decimal, l.Quantity) }

// taxCol is one column of a tax form's table.
type taxCol struct {
	num, title string
	size       int
	value      func(i int, l core.DocumentLine) string
	total      func(lines []core.DocumentLine) string // the «Итого» and «Всего» rows; nil: empty
	right      bool
}

// taxTable prints a table whose header (titles, then column numbers)
// repeats on each page, then its totals row; the last line stays on the
// page of what follows the table, tail mm high.
func taxTable(m mcore.Maroto, cols []taxCol, lines []core.DocumentLine, totalLabel string, labelCols int, pageLabel string,
	tail float64) {
	header := func() {
		titles := make([]mcore.Col, len(cols))
		nums := make([]mcore.Col, len(cols))
		for i, c := range cols {
			titles[i] = text.NewCol(c.size, c.title, tinyC).WithStyle(gridCell)
			nums[i] = text.NewCol(c.size, c.num, tinyC).WithStyle(gridCell)
		}
		m.AddAutoRow(titles...)
		m.AddRow(3.5, nums...)
	}
	span := 0
	for _, c := range cols[:labelCols] {
		span += c.size
	}
	// Below the header, a cell draws its left and bottom sides (the last
	// one its right side too): each line of the grid is drawn once.
	sides := func(j int) *props.Cell {
		if j == len(cols)-1 {
			return gridLBR
		}
		return gridLB
	}
	fit := newFitter(m)
	totals := func(label string, part []core.DocumentLine) {
		row := []mcore.Col{text.NewCol(span, label, tinyB).WithStyle(gridLB)}
		cells := []textCell{{label, span, tinyB}}
		for j, c := range cols[labelCols:] {
			if c.total == nil {
				row = append(row, col.New(c.size).WithStyle(sides(labelCols+j)))
				continue
			}
			v := c.total(part)
			row = append(row, text.NewCol(c.size, v, totalS).WithStyle(sides(labelCols+j)))
			cells = append(cells, textCell{v, c.size, totalS})
		}
		fit.addRow(m, row, cells)
	}
	header()
	left := &room{m: m}
	start := 0 // the first line of the page
	for i, l := range lines {
		need := 8.0
		if pageLabel != "" {
			need += 5 // the page's «Итого»
		}
		if i == len(lines)-1 {
			need += tail
		}
		if !left.fits(need) {
			if pageLabel != "" && i > start {
				totals(pageLabel, lines[start:i])
			}
			newPage(m)
			header()
			left.lost()
			start = i
		}
		row := make([]mcore.Col, len(cols))
		cells := make([]textCell, len(cols))
		for j, c := range cols {
			st := tiny
			if c.right {
				st = tinyR
			}
			cells[j] = textCell{c.value(i, l), c.size, st}
			row[j] = text.NewCol(c.size, cells[j].text, st).WithStyle(sides(j))
		}
		if h, known := fit.addRow(m, row, cells); known {
			left.take(h)
		} else {
			left.lost()
		}
	}
	if pageLabel != "" {
		totals(pageLabel, lines[start:])
	}
	totals(totalLabel, lines)
}

func sum(lines []core.DocumentLine, f func(core.DocumentLine) decimal.Decimal) string {
	s := decimal.Zero
	for _, l := range lines {
		s = s.Add(f(l))
	}
	return core.FormatAmount(s)
}

func (in *Input) goods(l core.DocumentLine) Goods {
	if l.ProductID == nil {
		return Goods{}
	}
	return in.Goods[*l.ProductID]
}

// invoiceColumns are the счёт-фактура's table columns (1–11; 12–13, for
// traceable goods, are left off as the form allows).
func (in *Input) invoiceColumns(withCode bool) []taxCol {
	exempt := in.Seller.VATExempt
	name := 6
	var cols []taxCol
	if withCode {
		name = 4
		cols = append(cols, taxCol{num: "А", title: "Код товара/ работ, услуг", size: 2,
			value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).Code) }})
	}
	return append(cols,
		taxCol{num: "1", title: "№ п/п", size: 1, value: func(i int, _ core.DocumentLine) string { return fmt.Sprint(i + 1) }},
		taxCol{num: "1а", title: "Наименование товара (описание выполненных работ, оказанных услуг), имущественного права", size: name,
			value: func(_ int, l core.DocumentLine) string { return dash(l.Name) }},
		taxCol{num: "1б", title: "Код вида товара", size: 1, value: func(int, core.DocumentLine) string { return "--" }},
		taxCol{num: "2", title: "Единица измерения: код", size: 2,
			value: func(_ int, l core.DocumentLine) string { return dash(l.UnitCode) }},
		taxCol{num: "2а", title: "условное обозначение (национальное)", size: 2,
			value: func(_ int, l core.DocumentLine) string { return dash(l.Unit) }},
		taxCol{num: "3", title: "Коли- чество (объём)", size: 2, right: true,
			value: func(_ int, l core.DocumentLine) string { return core.FormatQuantity(l.Quantity.Decimal) }},
		taxCol{num: "4", title: "Цена (тариф) за единицу измерения", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string { return unitPrice(l) }},
		taxCol{num: "5", title: "Стоимость товаров (работ, услуг), имущественных прав без налога — всего", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string { return money(l.NetAmount) },
			total: func(ls []core.DocumentLine) string {
				return sum(ls, func(l core.DocumentLine) decimal.Decimal { return l.NetAmount.Decimal })
			}},
		taxCol{num: "6", title: "В том числе сумма акциза", size: 2,
			value: func(int, core.DocumentLine) string { return "без акциза" }, total: func(ls []core.DocumentLine) string { return "X" }},
		taxCol{num: "7", title: "Налоговая ставка", size: 2,
			value: func(_ int, l core.DocumentLine) string { return rateText(l.VATRate, exempt) }, total: func(ls []core.DocumentLine) string { return "X" }},
		taxCol{num: "8", title: "Сумма налога, предъявляемая покупателю", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string {
				if rateText(l.VATRate, exempt) == "без НДС" {
					return "без НДС"
				}
				return money(l.VATAmount)
			},
			total: func(ls []core.DocumentLine) string {
				return sum(ls, func(l core.DocumentLine) decimal.Decimal { return l.VATAmount.Decimal })
			}},
		taxCol{num: "9", title: "Стоимость товаров (работ, услуг), имущественных прав с налогом — всего", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string {
				return core.FormatAmount(l.NetAmount.Add(l.VATAmount.Decimal))
			},
			total: func(ls []core.DocumentLine) string {
				return sum(ls, func(l core.DocumentLine) decimal.Decimal { return l.NetAmount.Add(l.VATAmount.Decimal) })
			}},
		taxCol{num: "10", title: "Страна происхождения товара: цифровой код", size: 2,
			value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).CountryCode) }},
		taxCol{num: "10а", title: "краткое наименование", size: 3,
			value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).CountryName) }},
		taxCol{num: "11", title: "Регистрационный номер декларации на товары или регистрационный номер партии товара, подлежащего прослеживаемости",
			size: 5, value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).Customs) }},
	)
}

// invoiceHeader prints the счёт-фактура's lines (1)–(8); aside, when
// not nil, gives the columns, asideW wide, left of line i (0: line (1)).
func (in *Input) invoiceHeader(m mcore.Maroto, number string, aside func(i int) []mcore.Col, asideW int) {
	d, seller, buyer := in.Doc, OrgParty(in.Seller), in.Buyer
	innKPP := func(p Party) string {
		if p.KPP == "" {
			return dash(p.INN)
		}
		return dash(p.INN) + "/" + p.KPP
	}
	date := core.FormatDateLong(d.Date.Time)
	// Lines (3) and (4) are «--» for works and services.
	shipper, consignee := "--", "--"
	if len(goodsOnly(sheetLines(d))) > 0 {
		shipper, consignee = "он же", dash(strings.Trim(buyer.Name+", "+buyer.Address, ", "))
	}
	lines := [][2]string{
		{fmt.Sprintf("СЧЁТ-ФАКТУРА № %s от %s", number, date), "(1)"},
		{"ИСПРАВЛЕНИЕ № -- от --", "(1а)"},
		{"Продавец: " + dash(seller.Name), "(2)"},
		{"Адрес: " + dash(seller.Address), "(2а)"},
		{"ИНН/КПП продавца: " + innKPP(seller), "(2б)"},
		{"Грузоотправитель и его адрес: " + shipper, "(3)"},
		{"Грузополучатель и его адрес: " + consignee, "(4)"},
		{"К платёжно-расчётному документу № -- от --", "(5)"},
		{fmt.Sprintf("Документ об отгрузке № п/п 1-%d № %s от %s", len(sheetLines(d)), d.Number, date), "(5а)"},
		{"К счёту-фактуре (счетам-фактурам), выставленному при получении оплаты, частичной оплаты: № -- от --, исправление № -- от --", "(5б)"},
		{"Покупатель: " + dash(buyer.Name), "(6)"},
		{"Адрес: " + dash(buyer.Address), "(6а)"},
		{"ИНН/КПП покупателя: " + innKPP(buyer), "(6б)"},
		{"Валюта: наименование, код " + dash(currencyLine(d.Currency)), "(7)"},
		{"Идентификатор государственного контракта, договора (соглашения) (при наличии): --", "(8)"},
	}
	width, left := grid, 0.0
	if aside != nil {
		width, left = grid-asideW, 1.5 // off the column's line
	}
	for i, l := range lines {
		st, num := headS, headS
		if i == 0 {
			st, num.Top = headB, 2 // (1) on the title's baseline
		}
		st.Left = left
		cols := []mcore.Col{text.NewCol(width-2, l[0], st), text.NewCol(2, l[1], num)}
		if aside != nil {
			cols = append(aside(i), cols...)
		}
		m.AddAutoRow(cols...)
	}
}

// taxSignatures are the счёт-фактура's signatures (an ИП's variant for a
// 12-digit ИНН, with the ОГРНИП): each side's caption, its lines under it
// and the lines' captions; aside, when not "", is a column asideW wide
// on their left (the УПД's «Документ составлен на …»).
func (in *Input) taxSignatures(m mcore.Maroto, aside string, asideW int) {
	var left []cell
	width := grid
	if aside != "" {
		left, width = []cell{{size: asideW, text: aside, st: tiny, style: boxOf(border.Right)}}, grid-asideW
	}
	half := width / 2
	sig := (half - 3) * 2 / 5
	lines := func(name string) []cell {
		return []cell{blank(1), sign(sig, "", "(подпись)"), blank(1), sign(half-3-sig, dash(name), "(ф.и.о.)"), blank(1)}
	}
	captions := [2]string{"Руководитель организации или иное уполномоченное лицо", "Главный бухгалтер или иное уполномоченное лицо"}
	right := lines(in.Seller.ChiefAccountant)
	if len(in.Seller.INN) == 12 {
		captions = [2]string{"Индивидуальный предприниматель или иное уполномоченное лицо",
			"Реквизиты свидетельства о государственной регистрации индивидуального предпринимателя"}
		right = []cell{blank(1), lined(width-half-2, "ОГРНИП "+dash(in.Seller.OGRN), "(ОГРНИП и дата его присвоения)"), blank(1)}
	}
	first := label(half, captions[0])
	if aside != "" {
		first.st.Left = 1.5 // off the column's line
	}
	addLined(m, append(left, first, label(width-half, captions[1]))...)
	if aside != "" {
		left = []cell{{size: asideW, style: boxOf(border.Right)}}
	}
	addLined(m, append(append(left, lines(in.Seller.Director)...), right...)...)
}

// schetFakturaNumber is the счёт-фактура's own number, or the
// document's when it has none.
func (in *Input) schetFakturaNumber() string {
	if in.SchetFakturaNumber != "" {
		return in.SchetFakturaNumber
	}
	return in.Doc.Number
}

// renderSchetFaktura prints the счёт-фактура.
func (in *Input) renderSchetFaktura(m mcore.Maroto) {
	edition := in.Edition
	if edition == "" {
		edition = DefaultEdition
	}
	m.AddAutoRow(text.NewCol(grid, "Приложение № 1 к постановлению Правительства Российской Федерации от 26 декабря 2011 г. № 1137", caption))
	m.AddAutoRow(text.NewCol(grid, edition, caption))
	in.invoiceHeader(m, in.schetFakturaNumber(), nil, 0)
	m.AddRow(2)
	taxTable(m, in.invoiceColumns(false), sheetLines(in.Doc), "Всего к оплате", 7, "", 60)
	m.AddRow(4)
	in.taxSignatures(m, "", 0)
	endPages(m)
}

// updStatus is the УПД's status: as asked, else 1 for a VAT payer and 2
// for an exempt seller.
func (in *Input) updStatus() int {
	if in.UPDStatus != 0 {
		return in.UPDStatus
	}
	if in.Seller.VATExempt {
		return 2
	}
	return 1
}

// PrintedNumber is the number the form prints: a счёт-фактура's and a
// status-1 УПД's from the счёт-фактура sequence, else the document's.
func (in *Input) PrintedNumber() string {
	if in.Form == FormSchetFaktura || in.Form == FormUPD && in.updStatus() == 1 {
		return in.schetFakturaNumber()
	}
	return in.Doc.Number
}

func (in *Input) editionText() string {
	if in.Edition == "" {
		return DefaultEdition
	}
	return in.Edition
}
