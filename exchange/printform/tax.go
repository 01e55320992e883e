package printform

import (
	"fmt"
	"strings"

	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/page"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// Tax forms of a realization (documents-and-tax.md §3–5), landscape.
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
)

var currencies = map[string]string{"RUB": "Российский рубль, 643", "USD": "Доллар США, 840", "EUR": "Евро, 978",
	"CNY": "Китайский юань, 156", "KZT": "Тенге, 398", "BYN": "Белорусский рубль, 933"}

func rateText(rate string, exempt bool) string {
	if exempt || rate == string(core.VATNone) || rate == "" {
		return "без НДС"
	}
	return rate + "%"
}

// unitPrice is a line's price without VAT after its discount (column 4).
func unitPrice(l core.DocumentLine) string {
	if l.Quantity.IsZero() {
		return "0,00"
	}
	return core.FormatAmount(l.NetAmount.Div(l.Quantity.Decimal).Round(2))
}

// taxCol is one column of a tax form's table.
type taxCol struct {
	num, title string
	size       int
	value      func(i int, l core.DocumentLine) string
	total      func(lines []core.DocumentLine) string // the «Итого» and «Всего» rows; nil: empty
	right      bool
}

// taxTable prints a table whose header (titles, then column numbers)
// repeats on each page, then its totals row.
func taxTable(m mcore.Maroto, cols []taxCol, lines []core.DocumentLine, totalLabel string, labelCols int, pageLabel string) {
	header := func() {
		titles := make([]mcore.Col, len(cols))
		nums := make([]mcore.Col, len(cols))
		for i, c := range cols {
			titles[i] = text.NewCol(c.size, c.title, tinyC).WithStyle(cellB)
			nums[i] = text.NewCol(c.size, c.num, tinyC).WithStyle(cellB)
		}
		m.AddAutoRow(titles...)
		m.AddRow(3.5, nums...)
	}
	span := 0
	for _, c := range cols[:labelCols] {
		span += c.size
	}
	totals := func(label string, part []core.DocumentLine) {
		row := []mcore.Col{text.NewCol(span, label, tinyB).WithStyle(cellB)}
		for _, c := range cols[labelCols:] {
			v := ""
			if c.total != nil {
				v = c.total(part)
			}
			row = append(row, text.NewCol(c.size, v, props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5,
				Right: 0.5, Align: align.Right, Style: fontstyle.Bold}).WithStyle(cellB))
		}
		m.AddAutoRow(row...)
	}
	header()
	start := 0 // the first line of the page
	for i, l := range lines {
		need := 8.0
		if pageLabel != "" {
			need += 5 // the page's «Итого»
		}
		if i == len(lines)-1 {
			need += 60 // the last row stays with the totals and signatures
		}
		if !m.FitlnCurrentPage(need) {
			if pageLabel != "" && i > start {
				totals(pageLabel, lines[start:i])
			}
			m.AddPages(page.New())
			header()
			start = i
		}
		row := make([]mcore.Col, len(cols))
		for j, c := range cols {
			st := tiny
			if c.right {
				st = tinyR
			}
			row[j] = text.NewCol(c.size, c.value(i, l), st).WithStyle(cellB)
		}
		m.AddAutoRow(row...)
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
		taxCol{num: "1б", title: "Код вида товара", size: 2, value: func(int, core.DocumentLine) string { return "--" }},
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
			size: 4, value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).Customs) }},
	)
}

// invoiceHeader prints the счёт-фактура's lines (1)–(8).
func (in *Input) invoiceHeader(m mcore.Maroto, width int, number string) {
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
		{"Валюта: наименование, код " + dash(currencies[d.Currency]), "(7)"},
		{"Идентификатор государственного контракта, договора (соглашения) (при наличии): --", "(8)"},
	}
	m.AddAutoRow(text.NewCol(width-2, fmt.Sprintf("СЧЁТ-ФАКТУРА № %s от %s", number, date), headB), text.NewCol(2, "(1)", headS))
	for _, l := range lines {
		m.AddAutoRow(text.NewCol(width-2, l[0], headS), text.NewCol(2, l[1], headS))
	}
	m.AddRow(2)
}

// taxSignatures are the счёт-фактура's signatures (an ИП's variant for a
// 12-digit ИНН, with the ОГРНИП).
func (in *Input) taxSignatures(m mcore.Maroto, width int) {
	half := width / 2
	if len(in.Seller.INN) == 12 {
		m.AddAutoRow(text.NewCol(half, "Индивидуальный предприниматель или иное уполномоченное лицо ____________ "+
			dash(in.Seller.Director), headS), text.NewCol(width-half, "ОГРНИП "+dash(in.Seller.OGRN), headS))
		return
	}
	m.AddAutoRow(
		text.NewCol(half, "Руководитель организации или иное уполномоченное лицо ____________ (подпись) "+dash(in.Seller.Director)+" (ф.и.о.)", headS),
		text.NewCol(width-half, "Главный бухгалтер или иное уполномоченное лицо ____________ (подпись) "+dash(in.Seller.ChiefAccountant)+" (ф.и.о.)", headS))
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
	in.invoiceHeader(m, grid, in.schetFakturaNumber())
	taxTable(m, in.invoiceColumns(false), sheetLines(in.Doc), "Всего к оплате", 7, "")
	m.AddRow(4)
	in.taxSignatures(m, grid)
}

// renderUPD prints the УПД with its status (1: счёт-фактура and transfer
// document; 2: transfer document only).
func (in *Input) renderUPD(m mcore.Maroto) {
	status := in.updStatus()
	m.AddAutoRow(text.NewCol(6, "Универсальный передаточный документ", headB),
		text.NewCol(34, "Приложение № 1 к постановлению Правительства Российской Федерации от 26 декабря 2011 г. № 1137 "+
			in.editionText(), caption))
	m.AddAutoRow(text.NewCol(6, fmt.Sprintf("Статус: %d", status), headB),
		text.NewCol(34, "1 – счёт-фактура и передаточный документ (акт); 2 – передаточный документ (акт)", headS))
	// Status 1 is a счёт-фактура and takes its sequence; status 2 is the
	// transfer document only and keeps the realization's number.
	in.invoiceHeader(m, grid, in.PrintedNumber())
	taxTable(m, in.invoiceColumns(true), sheetLines(in.Doc), "Всего к оплате", 8, "")
	m.AddRow(3)
	in.taxSignatures(m, grid)
	m.AddRow(2, line.NewCol(grid, props.Line{Thickness: 0.4}))
	d := in.Doc
	date := core.FormatDateLong(d.Date.Time)
	m.AddAutoRow(text.NewCol(grid, "Основание передачи (сдачи) / получения (приёмки): "+dash(in.Basis)+"   [10]", headS))
	m.AddAutoRow(text.NewCol(grid, "Данные о транспортировке и грузе: --   [11]", headS))
	half := grid / 2
	pairs := [][2]string{
		{"Товар (груз) передал / услуги, результаты работ, права сдал: " + dash(in.Seller.Director) + "   [12]",
			"Товар (груз) получил / услуги, результаты работ, права принял: ____________   [17]"},
		{"Дата отгрузки, передачи (сдачи): " + date + "   [13]", "Дата получения (приёмки): ____________   [18]"},
		{"Иные сведения об отгрузке, передаче: --   [14]", "Иные сведения о получении, приёмке: --   [19]"},
		{"Ответственный за правильность оформления факта хозяйственной жизни: " + dash(in.Seller.ChiefAccountant) + "   [15]",
			"Ответственный за правильность оформления факта хозяйственной жизни: ____________   [20]"},
		{"Наименование экономического субъекта – составителя документа: " + dash(in.Seller.Name) + "   [16]",
			"Наименование экономического субъекта – составителя документа: " + dash(in.Buyer.Name) + "   [21]"},
		{"М.П.", "М.П."},
	}
	for _, p := range pairs {
		m.AddAutoRow(text.NewCol(half, p[0], headS), text.NewCol(grid-half, p[1], headS))
	}
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

// renderTorg12 prints the ТОРГ-12 товарная накладная.
func (in *Input) renderTorg12(m mcore.Maroto) {
	d, seller, buyer := in.Doc, OrgParty(in.Seller), in.Buyer
	exempt := in.Seller.VATExempt
	m.AddAutoRow(text.NewCol(grid, "Унифицированная форма № ТОРГ-12. Утверждена постановлением Госкомстата России от 25.12.98 № 132", caption))
	m.AddAutoRow(text.NewCol(34, ""), text.NewCol(6, "Форма по ОКУД 0330212", tinyC).WithStyle(cellB))
	party := func(p Party) string {
		s := partyLine(p)
		if p.BankName != "" {
			s += ", р/с " + dash(p.Account) + " в " + p.BankName + ", БИК " + dash(p.BIK) + ", к/с " + dash(p.CorrAccount)
		}
		return s
	}
	for _, l := range [][2]string{{"Грузоотправитель", party(seller)}, {"Грузополучатель", party(buyer)},
		{"Поставщик", party(seller)}, {"Плательщик", party(buyer)}, {"Основание", dash(in.Basis)}} {
		m.AddAutoRow(text.NewCol(6, l[0], headS), text.NewCol(34, l[1], headS))
	}
	m.AddRow(2)
	m.AddAutoRow(text.NewCol(14, ""), text.NewCol(6, "Номер документа", tinyC).WithStyle(cellB),
		text.NewCol(6, "Дата составления", tinyC).WithStyle(cellB), text.NewCol(14, ""))
	m.AddAutoRow(text.NewCol(14, "ТОВАРНАЯ НАКЛАДНАЯ", props.Text{Size: 10, Family: fontFamily, Style: fontstyle.Bold, Align: align.Right, Right: 2}),
		text.NewCol(6, d.Number, tinyC).WithStyle(cellB), text.NewCol(6, d.Date.Format("02.01.2006"), tinyC).WithStyle(cellB),
		text.NewCol(14, ""))
	m.AddRow(2)
	net := func(l core.DocumentLine) decimal.Decimal { return l.NetAmount.Decimal }
	vat := func(l core.DocumentLine) decimal.Decimal { return l.VATAmount.Decimal }
	qty := func(l core.DocumentLine) decimal.Decimal { return l.Quantity.Decimal }
	cols := []taxCol{
		{num: "1", title: "Номер по порядку", size: 1, value: func(i int, _ core.DocumentLine) string { return fmt.Sprint(i + 1) }},
		{num: "2", title: "Товар: наименование, характеристика, сорт, артикул товара", size: 8,
			value: func(_ int, l core.DocumentLine) string { return dash(l.Name) }},
		{num: "3", title: "Товар: код", size: 2, value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).Code) }},
		{num: "4", title: "Единица измерения: наименование", size: 2, value: func(_ int, l core.DocumentLine) string { return dash(l.Unit) }},
		{num: "5", title: "Единица измерения: код по ОКЕИ", size: 2, value: func(_ int, l core.DocumentLine) string { return dash(l.UnitCode) }},
		{num: "6", title: "Вид упаковки", size: 2, value: func(int, core.DocumentLine) string { return "--" }},
		{num: "7", title: "Количество: в одном месте", size: 2, value: func(int, core.DocumentLine) string { return "--" }},
		{num: "8", title: "Количество: мест, штук", size: 2, value: func(int, core.DocumentLine) string { return "--" },
			total: func(ls []core.DocumentLine) string { return "--" }},
		{num: "9", title: "Масса брутто", size: 2, value: func(int, core.DocumentLine) string { return "--" },
			total: func(ls []core.DocumentLine) string { return "--" }},
		{num: "10", title: "Количество (масса нетто)", size: 2, right: true,
			value: func(_ int, l core.DocumentLine) string { return core.FormatQuantity(l.Quantity.Decimal) },
			total: func(ls []core.DocumentLine) string {
				return strings.TrimSuffix(strings.TrimSuffix(sum(ls, qty), "00"), ",")
			}},
		{num: "11", title: "Цена, руб. коп.", size: 3, right: true, value: func(_ int, l core.DocumentLine) string { return unitPrice(l) },
			total: func(ls []core.DocumentLine) string { return "X" }},
		{num: "12", title: "Сумма без учёта НДС, руб. коп.", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string { return money(l.NetAmount) }, total: func(ls []core.DocumentLine) string { return sum(ls, net) }},
		{num: "13", title: "НДС: ставка, %", size: 2, value: func(_ int, l core.DocumentLine) string { return rateText(l.VATRate, exempt) },
			total: func(ls []core.DocumentLine) string { return "X" }},
		{num: "14", title: "НДС: сумма, руб. коп.", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string { return money(l.VATAmount) }, total: func(ls []core.DocumentLine) string { return sum(ls, vat) }},
		{num: "15", title: "Сумма с учётом НДС, руб. коп.", size: 4, right: true,
			value: func(_ int, l core.DocumentLine) string {
				return core.FormatAmount(l.NetAmount.Add(l.VATAmount.Decimal))
			},
			total: func(ls []core.DocumentLine) string {
				return sum(ls, func(l core.DocumentLine) decimal.Decimal { return l.NetAmount.Add(l.VATAmount.Decimal) })
			}},
	}
	// A waybill lists the goods: a delivery the realization bills is on
	// its счёт-фактура and УПД, not here.
	goods := goodsOnly(sheetLines(d))
	taxTable(m, cols, goods, "Всего по накладной", 7, "Итого")
	m.AddRow(3)
	n := int64(len(goods))
	m.AddAutoRow(text.NewCol(grid, fmt.Sprintf("Товарная накладная имеет приложение на -- листах и содержит %s %s записей",
		core.NumberInWords(n, false), core.Plural(n, "порядковый номер", "порядковых номера", "порядковых номеров")), headS))
	m.AddAutoRow(text.NewCol(grid, "Всего отпущено на сумму: "+core.AmountInWords(sumLines(d.TaxMode, goods).total), props.Text{Size: 7,
		Family: fontFamily, Style: fontstyle.Bold, Top: 0.5}))
	half := grid / 2
	for _, p := range [][2]string{
		{"Отпуск груза разрешил: Руководитель ____________ " + dash(in.Seller.Director), "По доверенности № -- от --"},
		{"Главный (старший) бухгалтер ____________ " + dash(in.Seller.ChiefAccountant), "Груз принял ____________"},
		{"Отпуск груза произвёл ____________", "Груз получил грузополучатель ____________"},
		{"М.П.   " + core.FormatDateQuoted(d.Date.Time), "М.П.   «__» ____________ 20__ г."},
	} {
		m.AddAutoRow(text.NewCol(half, p[0], headS), text.NewCol(grid-half, p[1], headS))
	}
}
