package printform

import (
	"bytes"
	"fmt"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"github.com/crmhub/crmhub/core"
)

// The УПД (the universal transfer document, a счёт-фактура and a
// waybill in one) as the ФНС layout has it: a narrow
// left column with the title, the status and its legend beside the
// счёт-фактура's header; the table across the full width; the
// signatures with «Документ составлен на N листах» on their left; the
// transfer part [10]–[21].

const (
	// updAside is the width of the left column, in grid units.
	updAside = 6
	// updFooterH is the height (mm) of the transfer part [10]–[21], kept
	// on one page.
	updFooterH = 58
)

var (
	statusBox = props.Text{Size: 8, Family: fontFamily, Top: 0.3, Bottom: 0.3, Left: 1.2, Style: fontstyle.Bold}
	legendS   = props.Text{Size: 6, Family: fontFamily, Top: 0.6}
	statusL   = props.Text{Size: 8, Family: fontFamily, Top: 0.3, Right: 0.6, Style: fontstyle.Bold, Align: align.Right}
)

// renderUPD prints the УПД with its status (1: счёт-фактура and transfer
// document; 2: transfer document only). It lays the form out twice: the
// first time on a scratch document, to count the sheets the form says it
// is on.
func (in *Input) renderUPD(m mcore.Maroto) {
	scratch := maroto.New(scratchConfig(m.GetCurrentConfig()))
	in.layoutUPD(scratch, 0)
	in.layoutUPD(m, len(scratch.GetStructure().GetNexts()))
}

// scratchConfig is a copy of cfg for a scratch layout, with its own font
// bytes (gofpdf may write into the bytes it is given).
func scratchConfig(cfg *entity.Config) *entity.Config {
	c := *cfg
	c.CustomFonts = make([]*entity.CustomFont, len(cfg.CustomFonts))
	for i, f := range cfg.CustomFonts {
		cp := *f
		cp.Bytes = bytes.Clone(f.Bytes)
		c.CustomFonts[i] = &cp
	}
	return &c
}

// layoutUPD lays the УПД out, saying it is on sheets sheets.
func (in *Input) layoutUPD(m mcore.Maroto, sheets int) {
	m.AddAutoRow(text.NewCol(grid, "Приложение № 1 к постановлению Правительства Российской Федерации от 26 декабря 2011 г. № 1137 "+
		in.editionText(), caption))
	m.AddRow(1)
	in.updHeader(m)
	m.AddRow(2)
	taxTable(m, in.invoiceColumns(true), sheetLines(in.Doc), "Всего к оплате", 8, "", 25)
	m.AddRow(3)
	in.taxSignatures(m, "Документ составлен "+onSheets(sheets), updAside)
	m.AddRow(3)
	if !m.FitlnCurrentPage(updFooterH) {
		newPage(m)
	}
	in.updFooter(m)
	endPages(m)
}

// updHeader prints the left column beside the счёт-фактура's header:
// the title (alone on its lines, above the header's first), the status in
// its box and the legend.
func (in *Input) updHeader(m mcore.Maroto) {
	side := func(s string, st props.Text) mcore.Col {
		return text.NewCol(updAside, s, st).WithStyle(boxOf(border.Right))
	}
	for _, w := range []string{"Универсальный", "передаточный"} {
		m.AddAutoRow(side(w, headB), col.New(grid-updAside))
	}
	legend := []string{"1 – счёт-фактура и передаточный", "документ (акт);", "2 – передаточный документ (акт)"}
	status := fmt.Sprint(in.updStatus())
	in.invoiceHeader(m, in.PrintedNumber(), func(i int) []mcore.Col {
		switch {
		case i == 0:
			return []mcore.Col{side("документ", headB)}
		case i == 2:
			return []mcore.Col{text.NewCol(3, "Статус:", statusL), text.NewCol(1, status, statusBox).WithStyle(boxOf(border.Full)),
				col.New(updAside - 4).WithStyle(boxOf(border.Right))}
		case i >= 4 && i-4 < len(legend):
			return []mcore.Col{side(legend[i-4], legendS)}
		}
		return []mcore.Col{col.New(updAside).WithStyle(boxOf(border.Right))}
	}, updAside)
}

// updFooter prints the transfer part [10]–[21]: the basis and the
// cargo across the page, then the seller's side and the buyer's.
func (in *Input) updFooter(m mcore.Maroto) {
	half := grid / 2
	mark := func(s string) cell { return cell{size: 1, text: s, st: tinyR} }
	addLined(m, label(10, "Основание передачи (сдачи) / получения (приёмки)"),
		lined(29, dash(in.Basis), "(договор; доверенность и др.)"), mark("[10]"))
	addLined(m, label(7, "Данные о транспортировке и грузе"), lined(32, "--",
		"(транспортная накладная, поручение экспедитору, экспедиторская / складская расписка и др. / масса нетто/ брутто груза, "+
			"если не приведены ссылки на транспортные документы, содержащие эти сведения)"), mark("[11]"))
	both := func(left, right []cell) { addLined(m, append(left, right...)...) }
	side := func(s string) []cell { return []cell{label(half, s)} }
	other := func(s string) []cell { return []cell{indent(label(half, s))} }
	sizes := [3]int{5, 4, 7}
	signed := func(position, name, n string, gap int) []cell {
		out := []cell{blank(gap)}
		out = append(out, updSignature(position, name, sizes)...)
		return append(out, mark(n), blank(half-gap-sizes[0]-sizes[1]-sizes[2]-3))
	}
	m.AddRow(1)
	both(side("Товар (груз) передал / услуги, результаты работ, права сдал"),
		other("Товар (груз) получил / услуги, результаты работ, права принял"))
	both(signed(in.headTitle(), in.Seller.Director, "[12]", 0), signed("", "", "[17]", 1))
	both(side("Дата отгрузки, передачи (сдачи): "+core.FormatDateLong(in.Doc.Date.Time)+"   [13]"),
		other("Дата получения (приёмки): «__» ____________ 20__ г.   [18]"))
	both(side("Иные сведения об отгрузке, передаче"), other("Иные сведения о получении, приёмке"))
	both([]cell{lined(half-2, "--", "(ссылки на неотъемлемые приложения, сопутствующие документы, иные документы и т.п.)"), mark("[14]"), blank(1)},
		[]cell{blank(1), lined(half-2, "--", "(информация о наличии/отсутствии претензии; ссылки на неотъемлемые приложения и другие документы и т.п.)"),
			mark("[19]")})
	responsible := "Ответственный за правильность оформления факта хозяйственной жизни"
	both(side(responsible), other(responsible))
	accountant := ""
	if in.Seller.ChiefAccountant != "" {
		accountant = "Главный бухгалтер"
	}
	both(signed(accountant, in.Seller.ChiefAccountant, "[15]", 0), signed("", "", "[20]", 1))
	both(side("Наименование экономического субъекта – составителя документа (в т. ч. комиссионера / агента)"),
		other("Наименование экономического субъекта – составителя документа"))
	stamp := "(может не заполняться при проставлении печати в М.П., может быть указан ИНН / КПП)"
	both([]cell{lined(half-2, subject(OrgParty(in.Seller)), stamp), mark("[16]"), blank(1)},
		[]cell{blank(1), lined(half-2, subject(in.Buyer), stamp), mark("[21]")})
	both(side("М.П."), other("М.П."))
}

// subject is a party as the УПД names the document's maker: its name and
// ИНН/КПП.
func subject(p Party) string {
	if p.Name == "" {
		return "--"
	}
	s := p.Name + ", ИНН/КПП " + dash(p.INN)
	if p.KPP != "" {
		s += "/" + p.KPP
	}
	return s
}

// updSignature is a signature's parts on their lines, captioned as the
// УПД does: (должность), (подпись), (ф.и.о.).
func updSignature(position, name string, sizes [3]int) []cell {
	out := signature(position, name, sizes)
	out[len(out)-1].caption = "(ф.и.о.)"
	return out
}
