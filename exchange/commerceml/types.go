// Package commerceml reads (and writes) CommerceML 2 documents, the XML
// 1C:Enterprise exchanges catalogs and orders in (2.03–2.10, with or
// without the urn:1C.ru:commerceml_2/_210 namespaces, UTF-8 with or without
// a BOM, or windows-1251). The decoder streams: it hands out one item
// (a group, a good, an offer, a document…) at a time, so memory stays
// bounded whatever the file's size. Elements are matched by local name.
package commerceml

import (
	"strings"

	"github.com/crmhub/crmhub/core"
)

// Info is the document root's attributes.
type Info struct {
	Version string // ВерсияСхемы
	Date    string // ДатаФормирования
}

// Classifier opens a Классификатор: its id, name and owner.
type Classifier struct {
	ID, Name string
	Owner    Party
}

// Catalog opens a Каталог (goods follow).
type Catalog struct {
	ID, ClassifierID, Name string
	// OnlyChanges is СодержитТолькоИзменения: false = a full snapshot.
	OnlyChanges bool
}

// OfferPackage opens a ПакетПредложений (price types, warehouses and
// offers follow).
type OfferPackage struct {
	ID, CatalogID, ClassifierID, Name string
	OnlyChanges                       bool
}

// Party is an owner or counterparty's identity.
type Party struct {
	ID           string `xml:"Ид"`
	Name         string `xml:"Наименование"`
	FullName     string `xml:"ПолноеНаименование"`
	OfficialName string `xml:"ОфициальноеНаименование"`
	INN          string `xml:"ИНН"`
	KPP          string `xml:"КПП"`
}

// Group is a classifier group with its subgroups; Parent is the Ид of the
// group it is nested in ("" at the top).
type Group struct {
	ID     string  `xml:"Ид"`
	Name   string  `xml:"Наименование"`
	Groups []Group `xml:"Группы>Группа"`
	Status string  `xml:"Статус"`
	Parent string  `xml:"-"`
}

// Flatten lists the group and its subgroups, each with its Parent set.
func (g Group) Flatten() []Group {
	out := []Group{{ID: g.ID, Name: g.Name, Status: g.Status, Parent: g.Parent}}
	for _, c := range g.Groups {
		c.Parent = g.ID
		out = append(out, c.Flatten()...)
	}
	return out
}

// Property is a classifier property (Свойство).
type Property struct {
	ID        string `xml:"Ид"`
	Name      string `xml:"Наименование"`
	ValueType string `xml:"ТипЗначений"`
	Variants  []struct {
		ID    string `xml:"ИдЗначения"`
		Value string `xml:"Значение"`
	} `xml:"ВариантыЗначений>Справочник"`
}

// Unit is a base unit: its ОКЕИ code (trimmed) and short name.
type Unit struct {
	Code     string `xml:"Код,attr"`
	FullName string `xml:"НаименованиеПолное,attr"`
	Intl     string `xml:"МеждународноеСокращение,attr"`
	Name     string `xml:",chardata"`
}

// Requisite is a name/value pair (ЗначениеРеквизита, ХарактеристикаТовара).
type Requisite struct {
	Name  string `xml:"Наименование"`
	Value string `xml:"Значение"`
}

// TaxRate is a СтавкаНалога: Rate is a number ("20", "22") or "Без НДС".
type TaxRate struct {
	Name string `xml:"Наименование"`
	Rate string `xml:"Ставка"`
}

// Good is a Товар of a catalog.
type Good struct {
	ID           string   `xml:"Ид"`
	Barcode      string   `xml:"Штрихкод"`
	SKU          string   `xml:"Артикул"`
	Name         string   `xml:"Наименование"`
	Unit         Unit     `xml:"БазоваяЕдиница"`
	GroupIDs     []string `xml:"Группы>Ид"`
	Description  string   `xml:"Описание"`
	Images       []string `xml:"Картинка"`
	Manufacturer struct {
		ID   string `xml:"Ид"`
		Name string `xml:"Наименование"`
	} `xml:"Изготовитель"`
	PropertyValues []PropertyValue `xml:"ЗначенияСвойств>ЗначенияСвойства"`
	TaxRates       []TaxRate       `xml:"СтавкиНалогов>СтавкаНалога"`
	Requisites     []Requisite     `xml:"ЗначенияРеквизитов>ЗначениеРеквизита"`
	Status         string          `xml:"Статус"`
}

// PropertyValue is a good's value of a classifier property (its Ид): text,
// or the ИдЗначения of a Справочник's variant; several for a multiple one.
type PropertyValue struct {
	ID     string   `xml:"Ид"`
	Values []string `xml:"Значение"`
}

// Requisite returns the value of the requisite named name ("" if none).
func (g *Good) Requisite(name string) string { return requisite(g.Requisites, name) }

func requisite(rs []Requisite, name string) string {
	for _, r := range rs {
		if strings.EqualFold(strings.TrimSpace(r.Name), name) {
			return strings.TrimSpace(r.Value)
		}
	}
	return ""
}

// Deleted reports whether 1C marked the good deleted.
func (g *Good) Deleted() bool { return strings.EqualFold(strings.TrimSpace(g.Status), "Удален") }

// PriceType is a ТипЦены.
type PriceType struct {
	ID       string `xml:"Ид"`
	Name     string `xml:"Наименование"`
	Currency string `xml:"Валюта"`
	Tax      struct {
		Name     string `xml:"Наименование"`
		Included string `xml:"УчтеноВСумме"`
	} `xml:"Налог"`
}

// Warehouse is a Склад of an offer package.
type Warehouse struct {
	ID   string `xml:"Ид"`
	Name string `xml:"Наименование"`
}

// Price is an offer's price of one price type.
type Price struct {
	Presentation string `xml:"Представление"`
	PriceTypeID  string `xml:"ИдТипаЦены"`
	PerUnit      string `xml:"ЦенаЗаЕдиницу"`
	Currency     string `xml:"Валюта"`
	Unit         string `xml:"Единица"`
	Ratio        string `xml:"Коэффициент"`
}

// Stock is a quantity in a warehouse.
type Stock struct {
	WarehouseID string
	Quantity    string
}

// Offer is a Предложение: prices and stock of a good or of a
// characteristic of it (ID "product#characteristic").
type Offer struct {
	ID              string      `xml:"Ид"`
	SKU             string      `xml:"Артикул"`
	Name            string      `xml:"Наименование"`
	Unit            Unit        `xml:"БазоваяЕдиница"`
	Characteristics []Requisite `xml:"ХарактеристикиТовара>ХарактеристикаТовара"`
	Prices          []Price     `xml:"Цены>Цена"`
	Quantity        string      `xml:"Количество"`
	// 2.05–2.08: <Склад ИдСклада=".." КоличествоНаСкладе=".."/>
	WarehouseAttrs []struct {
		ID       string `xml:"ИдСклада,attr"`
		Quantity string `xml:"КоличествоНаСкладе,attr"`
	} `xml:"Склад"`
	// package style: <Остатки><Остаток><Склад><Ид/><Количество/></Склад></Остаток></Остатки>
	Rests []struct {
		WarehouseID string `xml:"Склад>Ид"`
		Quantity    string `xml:"Склад>Количество"`
		Total       string `xml:"Количество"`
	} `xml:"Остатки>Остаток"`
	Status string `xml:"Статус"`
}

// ProductID is the good's Ид (before a "#").
func (o *Offer) ProductID() string { id, _, _ := strings.Cut(o.ID, "#"); return id }

// CharacteristicID is the characteristic's Ид (after a "#"), "" for the
// good itself.
func (o *Offer) CharacteristicID() string { _, c, _ := strings.Cut(o.ID, "#"); return c }

// Stocks lists the per-warehouse quantities in either notation.
func (o *Offer) Stocks() []Stock {
	var out []Stock
	for _, w := range o.WarehouseAttrs {
		if w.ID != "" {
			out = append(out, Stock{WarehouseID: w.ID, Quantity: w.Quantity})
		}
	}
	for _, r := range o.Rests {
		if r.WarehouseID != "" {
			out = append(out, Stock{WarehouseID: r.WarehouseID, Quantity: r.Quantity})
		}
	}
	return out
}

// Tax is a tax of a line or document.
type Tax struct {
	Name     string `xml:"Наименование"`
	Included string `xml:"УчтеноВСумме"`
	Sum      string `xml:"Сумма"`
	Rate     string `xml:"Ставка"`
}

// Discount is a discount of a line or document.
type Discount struct {
	Name     string `xml:"Наименование"`
	Sum      string `xml:"Сумма"`
	Percent  string `xml:"Процент"`
	Included string `xml:"УчтеноВСумме"`
}

// AddressField is one part of an address (АдресноеПоле): its kind
// («Почтовый индекс», «Регион», «Город», «Улица», «Дом», «Квартира»…) and
// value.
type AddressField struct {
	Type  string `xml:"Тип"`
	Value string `xml:"Значение"`
}

// AddressFields are a structured address's parts as 1C reads them: places
// as «Name type» («Москва г», «Тверская ул»), house, block and flat by
// their numbers; none for an address kept as free text.
func AddressFields(a core.PostalAddress) []AddressField {
	if a.Line != "" && a.Street == "" && a.City == "" {
		return nil
	}
	place := func(name, typ string) string { return strings.TrimSpace(name + " " + strings.TrimSuffix(typ, ".")) }
	var out []AddressField
	for _, f := range []AddressField{{"Почтовый индекс", a.Postcode}, {"Страна", "РОССИЯ"}, {"Регион", place(a.Region, a.RegionType)},
		{"Район", place(a.District, a.DistrictType)}, {"Город", place(a.City, a.CityType)},
		{"Населенный пункт", place(a.Settlement, a.SettlementType)}, {"Улица", place(a.Street, a.StreetType)},
		{"Дом", a.House}, {"Корпус", a.Block}, {"Квартира", a.Flat}} {
		if f.Value != "" && (f.Type != "Страна" || a.Region != "" || a.City != "") {
			out = append(out, f)
		}
	}
	return out
}

// Counterparty is a document's party.
type Counterparty struct {
	Party
	Role      string `xml:"Роль"`
	LastName  string `xml:"Фамилия"`
	FirstName string `xml:"Имя"`
	Address   string `xml:"АдресРегистрации>Представление"`
	// AddressFields are the address's parts, as 1C structures it.
	AddressFields []AddressField `xml:"АдресРегистрации>АдресноеПоле"`
	Contacts      []struct {
		Type  string `xml:"Тип"`
		Value string `xml:"Значение"`
	} `xml:"Контакты>Контакт"`
	// Requisites are the counterparty's own ЗначенияРеквизитов (ОКВЭД, a
	// customer code…), written and read as a good's are.
	Requisites []Requisite `xml:"ЗначенияРеквизитов>ЗначениеРеквизита"`
}

// Requisite returns the value of the counterparty's requisite named name
// ("" if none).
func (c *Counterparty) Requisite(name string) string { return requisite(c.Requisites, name) }

// Line is a document's Товар.
type Line struct {
	ID        string `xml:"Ид"`
	Name      string `xml:"Наименование"`
	SKU       string `xml:"Артикул"`
	Unit      Unit   `xml:"БазоваяЕдиница"`
	UnitBlock struct {
		Code string `xml:"Ид"`
		Name string `xml:"НаименованиеКраткое"`
	} `xml:"Единица"`
	PricePerUnit string      `xml:"ЦенаЗаЕдиницу"`
	PriceAlt     string      `xml:"Цена"`
	Quantity     string      `xml:"Количество"`
	Sum          string      `xml:"Сумма"`
	TaxRates     []TaxRate   `xml:"СтавкиНалогов>СтавкаНалога"`
	Taxes        []Tax       `xml:"Налоги>Налог"`
	Discounts    []Discount  `xml:"Скидки>Скидка"`
	Requisites   []Requisite `xml:"ЗначенияРеквизитов>ЗначениеРеквизита"`
}

// Price is the line's price per unit in either notation.
func (l *Line) Price() string {
	if l.PricePerUnit != "" {
		return l.PricePerUnit
	}
	return l.PriceAlt
}

// Delivery reports whether the line is the delivery pseudo-product.
func (l *Line) Delivery() bool { return l.ID == "ORDER_DELIVERY" }

// Document is an order (or another document) in either direction.
type Document struct {
	ID             string         `xml:"Ид"`
	Number         string         `xml:"Номер"`
	Date           string         `xml:"Дата"`
	Time           string         `xml:"Время"`
	Operation      string         `xml:"ХозОперация"`
	Role           string         `xml:"Роль"`
	Currency       string         `xml:"Валюта"`
	Rate           string         `xml:"Курс"`
	Sum            string         `xml:"Сумма"`
	Comment        string         `xml:"Комментарий"`
	Number1C       string         `xml:"Номер1С"`
	Date1C         string         `xml:"Дата1С"`
	Version        string         `xml:"НомерВерсии"`
	DeletionMark   string         `xml:"ПометкаУдаления"`
	Counterparties []Counterparty `xml:"Контрагенты>Контрагент"`
	Lines          []Line         `xml:"Товары>Товар"`
	Taxes          []Tax          `xml:"Налоги>Налог"`
	Discounts      []Discount     `xml:"Скидки>Скидка"`
	Requisites     []Requisite    `xml:"ЗначенияРеквизитов>ЗначениеРеквизита"`
}

// Requisite returns the value of the document requisite named name.
func (d *Document) Requisite(name string) string { return requisite(d.Requisites, name) }
