package store_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	g, err := s.ProductGroups().Create(ctx, patch(t, `{"name":"Мебель"}`))
	require.NoError(t, err)
	sub, err := s.ProductGroups().Create(ctx, patch(t, `{"name":"Диваны","parent_id":"`+g.ID+`"}`))
	require.NoError(t, err)
	_, err = s.ProductGroups().Update(ctx, g.ID, 0, patch(t, `{"parent_id":"`+sub.ID+`"}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a group cannot move inside itself")

	p, err := s.Products().Create(ctx, patch(t, `{"name":"Диван «Уют»","sku":"D-01","group_id":"`+sub.ID+`","unit":"шт",
		"unit_code":"796","vat_rate":"22","price":"45990.00","stock_quantity":"12.5","country_of_origin":"Китай","country_code":"156",
		"customs_declaration":"10702070/250126/3012345/1","external_ids":{"onec":"bd72d8f9-..."}}`))
	require.NoError(t, err)
	require.True(t, p.Active)
	require.Equal(t, "RUB", p.Currency)
	require.Equal(t, "12.5", p.StockQuantity.String())
	require.Empty(t, p.OwnerID, "the catalog has no owners")
	for _, bad := range []string{`{"name":"X","unit_code":"79"}`, `{"name":"X","vat_rate":"18"}`,
		`{"name":"X","stock_quantity":"1.0001"}`, `{"name":"X","price":"-5"}`, `{"sku":"no name"}`, `{"name":"X","currency":"рубль"}`} {
		_, err := s.Products().Create(ctx, patch(t, bad))
		require.Equal(t, core.EINVALID, core.ErrorCode(err), bad)
	}
	oversold, err := s.Products().Create(ctx, patch(t, `{"name":"Продан сверх остатка","stock_quantity":"-1.5"}`))
	require.NoError(t, err, "1C reports oversold goods as a negative stock, and the catalog keeps what it says")
	require.Equal(t, "-1.5", oversold.StockQuantity.String())
	svc, err := s.Services().Create(ctx, patch(t, `{"name":"Доставка","unit":"усл","unit_code":"876","price":"1500"}`))
	require.NoError(t, err)

	book, err := s.PriceBooks().Create(ctx, patch(t, `{"name":"Розница"}`))
	require.NoError(t, err)
	price, err := s.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ProductID: &p.ID, Price: core.NewMoney(decimal.RequireFromString("42000"))})
	require.NoError(t, err)
	require.EqualValues(t, 1, price.Version)
	price, err = s.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ProductID: &p.ID, Price: core.NewMoney(decimal.RequireFromString("41000"))})
	require.NoError(t, err)
	require.EqualValues(t, 2, price.Version)
	_, err = s.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ServiceID: &svc.ID, Price: core.NewMoney(decimal.RequireFromString("1000")),
		Currency: "USD"})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a price in another currency than its book")
	_, err = s.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ServiceID: &svc.ID, ProductID: &p.ID})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	_, err = s.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ServiceID: &svc.ID, Price: core.NewMoney(decimal.RequireFromString("1000"))})
	require.NoError(t, err)
	prices, err := s.PriceBooks().Prices(ctx, book.ID)
	require.NoError(t, err)
	require.Len(t, prices, 2)
	_, err = s.PriceBooks().Update(ctx, book.ID, 0, patch(t, `{"currency":"USD"}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a price book with prices keeps its currency")
	require.NoError(t, s.PriceBooks().DeletePrice(ctx, book.ID, p.ID))
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(s.PriceBooks().DeletePrice(ctx, book.ID, p.ID)))
	require.Equal(t, 4, count(t, s, `SELECT count(*) FROM outbox WHERE entity = 'price'`), "every price change is an event")
}
