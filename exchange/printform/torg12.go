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

// The ТОРГ-12 (the waybill of a shipment of goods): its header is a column of
// labels and values on lines, with the «Коды» column of boxes on the
// right; the table; the footer with the counts in words and the
// signatures, their captions under the lines.

// The header's grid: label, value, code label, «номер»/«дата», code.
const (
	t12Label, t12Value, t12CodeLabel, t12Sub, t12Code = 4, 24, 6, 2, 4
	// t12Tail is the height (mm) of what follows the table's last row:
	// the totals and the footer, kept on the last row's page.
	t12Tail = 72
)

var (
	tinyCB   = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Align: align.Center, Style: fontstyle.Bold}
	boxTextB = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Left: 0.8, Style: fontstyle.Bold}
	titleR   = props.Text{Size: 10, Family: fontFamily, Style: fontstyle.Bold, Align: align.Right, Right: 2, Top: 0.5}
	sumWords = props.Text{Size: 7, Family: fontFamily, Style: fontstyle.Bold, Top: 0.5}
)

// code is the right part of a header row: a label, an optional
// «номер»/«дата» box and the code's box, framed on sides.
type code struct {
	label, sub, value string
	sides             border.Type
}

func (c code) cols() []mcore.Col {
	box := text.NewCol(t12Code, c.value, boxText).WithStyle(boxOf(c.sides))
	if c.sub == "" {
		return []mcore.Col{text.NewCol(t12CodeLabel+t12Sub, c.label, labelR), box}
	}
	return []mcore.Col{text.NewCol(t12CodeLabel, c.label, labelR), text.NewCol(t12Sub, c.sub, tinyC).WithStyle(boxOf(border.Full)), box}
}

// codeRow is a header line: its label, the value on a line and its code;
// with a caption, a second row prints it under the line, beside the
// code's second part (its box's lower half, or a second code).
func codeRow(m mcore.Maroto, lbl, value, caption string, first, second code) {
	m.AddAutoRow(append([]mcore.Col{text.NewCol(t12Label, lbl, headS),
		text.NewCol(t12Value, value, onLine).WithStyle(under)}, first.cols()...)...)
	if caption != "" {
		m.AddAutoRow(append([]mcore.Col{col.New(t12Label), text.NewCol(t12Value, caption, note)}, second.cols()...)...)
	}
}

// okpo are the parties' ОКПО codes as the issued document froze them
// (our organization has none in its settings, and a Party carries none,
// so a draft prints empty boxes).
func (in *Input) okpo() (shipper, consignee, payer string) {
	if r := in.Doc.Requisites; r != nil {
		return r.Shipper.OKPO, r.Consignee.OKPO, r.Buyer.OKPO
	}
	return "", "", ""
}

// torg12Party is a party as the ТОРГ-12 prints it: with its bank.
func torg12Party(p Party) string {
	s := partyLine(p)
	if p.BankName != "" {
		s += ", р/с " + dash(p.Account) + " в " + p.BankName + ", БИК " + dash(p.BIK) + ", к/с " + dash(p.CorrAccount)
	}
	return s
}

// torg12Header prints the form's caption, the parties with the Коды
// column, the title with the number and date, the waybill and the
// operation.
func (in *Input) torg12Header(m mcore.Maroto) {
	d, seller, buyer := in.Doc, OrgParty(in.Seller), in.Buyer
	m.AddAutoRow(text.NewCol(grid, "Унифицированная форма № ТОРГ-12", caption))
	m.AddAutoRow(text.NewCol(grid, "Утверждена постановлением Госкомстата России от 25.12.98 № 132", caption))
	m.AddRow(1)
	m.AddAutoRow(col.New(grid-t12Code), text.NewCol(t12Code, "Коды", tinyCB).WithStyle(boxOf(border.Full)))
	m.AddAutoRow(col.New(t12Label+t12Value), text.NewCol(t12CodeLabel+t12Sub, "Форма по ОКУД", labelR),
		text.NewCol(t12Code, "0330212", boxTextB).WithStyle(boxOf(border.Full)))

	shipperOKPO, consigneeOKPO, payerOKPO := in.okpo()
	top, bottom := border.Left|border.Top|border.Right, border.Left|border.Bottom|border.Right
	org := "(организация, адрес, телефон, факс, банковские реквизиты)"
	codeRow(m, "Грузоотправитель", torg12Party(seller), org, code{label: "по ОКПО", value: shipperOKPO, sides: top},
		code{sides: bottom})
	codeRow(m, "", " ", "(структурное подразделение)", code{sides: top}, code{label: "Вид деятельности по ОКДП", sides: border.Full})
	codeRow(m, "Грузополучатель", torg12Party(buyer), org, code{label: "по ОКПО", value: consigneeOKPO, sides: top},
		code{sides: bottom})
	codeRow(m, "Поставщик", torg12Party(seller), org, code{label: "по ОКПО", value: shipperOKPO, sides: top}, code{sides: bottom})
	codeRow(m, "Плательщик", torg12Party(buyer), org, code{label: "по ОКПО", value: payerOKPO, sides: top}, code{sides: bottom})
	codeRow(m, "Основание", dash(in.Basis), "(договор, заказ-наряд)", code{sub: "номер", sides: border.Full},
		code{sub: "дата", sides: border.Full})

	boxed := func(size int, s string) mcore.Col { return text.NewCol(size, s, tinyC).WithStyle(boxOf(border.Full)) }
	row := []mcore.Col{col.New(8), boxed(5, "Номер документа"), boxed(5, "Дата составления"), col.New(10)}
	m.AddAutoRow(append(row, code{label: "Транспортная накладная", sub: "номер", sides: border.Full}.cols()...)...)
	// The title's row: the number and date in their boxes, the
	// waybill's date beside them.
	row = []mcore.Col{text.NewCol(8, "ТОВАРНАЯ НАКЛАДНАЯ", titleR),
		text.NewCol(5, d.Number, tinyCB).WithStyle(boxOf(border.Full)),
		text.NewCol(5, d.Date.Format("02.01.2006"), tinyCB).WithStyle(boxOf(border.Full)), col.New(10)}
	m.AddAutoRow(append(row, code{sub: "дата", sides: border.Full}.cols()...)...)
	m.AddAutoRow(append([]mcore.Col{col.New(t12Label + t12Value)}, code{label: "Вид операции", sides: border.Full}.cols()...)...)
	m.AddRow(2)
}

// torg12Columns are the table's columns 1–15.
func (in *Input) torg12Columns() []taxCol {
	exempt := in.Seller.VATExempt
	net := func(l core.DocumentLine) decimal.Decimal { return l.NetAmount.Decimal }
	vat := func(l core.DocumentLine) decimal.Decimal { return l.VATAmount.Decimal }
	qty := func(l core.DocumentLine) decimal.Decimal { return l.Quantity.Decimal }
	none := func(int, core.DocumentLine) string { return "--" }
	return []taxCol{
		{num: "1", title: "Номер по порядку", size: 1, value: func(i int, _ core.DocumentLine) string { return fmt.Sprint(i + 1) }},
		{num: "2", title: "Товар: наименование, характеристика, сорт, артикул товара", size: 8,
			value: func(_ int, l core.DocumentLine) string { return dash(l.Name) }},
		{num: "3", title: "Товар: код", size: 2, value: func(_ int, l core.DocumentLine) string { return dash(in.goods(l).Code) }},
		{num: "4", title: "Единица измерения: наименование", size: 2, value: func(_ int, l core.DocumentLine) string { return dash(l.Unit) }},
		{num: "5", title: "Единица измерения: код по ОКЕИ", size: 2, value: func(_ int, l core.DocumentLine) string { return dash(l.UnitCode) }},
		{num: "6", title: "Вид упаковки", size: 2, value: none},
		{num: "7", title: "Количество: в одном месте", size: 2, value: none},
		{num: "8", title: "Количество: мест, штук", size: 2, value: none, total: func([]core.DocumentLine) string { return "--" }},
		{num: "9", title: "Масса брутто", size: 2, value: none, total: func([]core.DocumentLine) string { return "--" }},
		{num: "10", title: "Количество (масса нетто)", size: 2, right: true,
			value: func(_ int, l core.DocumentLine) string { return core.FormatQuantity(l.Quantity.Decimal) },
			total: func(ls []core.DocumentLine) string {
				return strings.TrimSuffix(strings.TrimSuffix(sum(ls, qty), "00"), ",")
			}},
		{num: "11", title: "Цена, руб. коп.", size: 3, right: true, value: func(_ int, l core.DocumentLine) string { return unitPrice(l) },
			total: func([]core.DocumentLine) string { return "X" }},
		{num: "12", title: "Сумма без учёта НДС, руб. коп.", size: 3, right: true,
			value: func(_ int, l core.DocumentLine) string { return money(l.NetAmount) }, total: func(ls []core.DocumentLine) string { return sum(ls, net) }},
		{num: "13", title: "НДС: ставка, %", size: 2, value: func(_ int, l core.DocumentLine) string { return rateText(l.VATRate, exempt) },
			total: func([]core.DocumentLine) string { return "X" }},
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
}

// renderTorg12 prints the ТОРГ-12 товарная накладная.
func (in *Input) renderTorg12(m mcore.Maroto) {
	in.torg12Header(m)
	// A waybill lists the goods: a delivery the realization bills is on
	// its счёт-фактура and УПД, not here.
	goods := goodsOnly(sheetLines(in.Doc))
	taxTable(m, in.torg12Columns(), goods, "Всего по накладной", 7, "Итого", t12Tail)
	m.AddRow(3)
	in.torg12Footer(m, goods)
	endPages(m)
}

// headTitle is the position of who signs for the seller: its head, or
// the entrepreneur (a 12-digit ИНН).
func (in *Input) headTitle() string {
	if len(in.Seller.INN) == 12 {
		return "ИП"
	}
	return "Руководитель"
}

// indent starts a cell a little off the cell on its left.
func indent(c cell) cell {
	c.st.Left = 3
	return c
}

// torg12Footer prints the count of records and the sum in words, the
// cargo lines and the signatures of both sides.
func (in *Input) torg12Footer(m mcore.Maroto, goods []core.DocumentLine) {
	n := int64(len(goods))
	half := grid / 2
	words := "Товарная накладная имеет приложение на ______ листах и содержит " +
		countInWords(n, false, "порядковый номер", "порядковых номера", "порядковых номеров") + " записей"
	addLined(m, label(grid, words))
	box := cell{size: 2, style: boxOf(border.Full), st: boxText, text: " "}
	addLined(m, blank(half), indent(label(6, "Масса груза (нетто)")), lined(11, "", "(прописью)"), blank(1), box)
	addLined(m, label(3, "Всего мест"), lined(16, "", "(прописью)"), blank(1),
		indent(label(6, "Масса груза (брутто)")), lined(11, "", "(прописью)"), blank(1), box)
	addLined(m, label(half, "Приложение (паспорта, сертификаты и т.п.) на ______ листах"),
		indent(label(6, "По доверенности №")), lined(5, "", ""), indent(label(1, "от")), lined(8, "", ""))
	total := cell{size: half, text: "Всего отпущено на сумму: " + core.AmountInWordsIn(sumLines(in.Doc.TaxMode, goods).total, currencyOr(in.Doc.Currency)), st: sumWords}
	addLined(m, total, indent(label(3, "выданной")), lined(17, "", "(кем, кому (организация, должность, фамилия, и. о.))"))
	m.AddRow(2)

	sizes := [3]int{4, 3, 5}
	row := func(left string, ls []cell, right string, rs []cell) {
		cells := append([]cell{label(6, left)}, ls...)
		if right != "" {
			cells = append(append(cells, indent(label(6, right))), rs...)
		} else {
			cells = append(cells, blank(half))
		}
		addLined(m, cells...)
	}
	row("Отпуск груза разрешил", signature(in.headTitle(), in.Seller.Director, sizes), "Груз принял", signature("", "", sizes))
	row("Главный (старший) бухгалтер", signature("-", in.Seller.ChiefAccountant, sizes),
		"Груз получил грузополучатель", signature("", "", sizes))
	row("Отпуск груза произвёл", signature("", "", sizes), "", nil)
	m.AddRow(2)
	addLined(m, label(half, "М.П.   "+core.FormatDateQuoted(in.Doc.Date.Time)), indent(label(half, "М.П.   «__» ____________ 20__ г.")))
}
