package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// BenchmarkPostLead measures POST /api/v1/leads through the whole Fiber
// stack (without TCP) and the store, one request at a time.
func BenchmarkPostLead(b *testing.B) {
	bu := setup(b)
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest("POST", "/api/v1/leads", strings.NewReader(
			fmt.Sprintf(`{"last_name":"Петров %d","company":"ООО Ромашка","phone":"8 (912) 345-67-89","email":"a%d@romashka.ru"}`, i, i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bu.writer)
		resp, err := bu.srv.App().Test(req, -1)
		if err != nil || resp.StatusCode != 201 {
			b.Fatalf("status %v: %v", resp, err)
		}
		resp.Body.Close()
	}
}

// BenchmarkCreateInvoice100Lines measures POST /api/v1/invoices with 100
// lines (half from the catalog, priced from a price book) through the
// whole Fiber stack and the store, and reports the server time's p50 and
// p99.
func BenchmarkCreateInvoice100Lines(b *testing.B) {
	bu := setup(b)
	ctx := context.Background()
	book, err := bu.store.PriceBooks().Create(ctx, core.Patch{"name": []byte(`"Опт"`)})
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	for i := range 100 {
		if i%2 == 0 {
			p, err := bu.store.Products().Create(ctx, core.Patch{"name": []byte(fmt.Sprintf(`"Товар %d"`, i)),
				"unit": []byte(`"шт"`), "unit_code": []byte(`"796"`), "vat_rate": []byte(`"22"`), "price": []byte(`"1000"`)})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := bu.store.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ProductID: &p.ID,
				Price: core.NewMoney(decimal.NewFromInt(int64(900 + i)))}); err != nil {
				b.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf(`{"product_id":"%s","quantity":"%d","discount_percent":"5"}`, p.ID, i%7+1))
			continue
		}
		lines = append(lines, fmt.Sprintf(`{"name":"Работа %d","price":"%d.%02d","quantity":"1.5","vat_rate":"10"}`, i, 100+i, i))
	}
	body := `{"subject":"Поставка","price_book_id":"` + book.ID + `","discount_percent":"3","shipping_amount":"500","lines":[` +
		strings.Join(lines, ",") + `]}`
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest("POST", "/api/v1/invoices", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bu.writer)
		t0 := time.Now()
		resp, err := bu.srv.App().Test(req, -1)
		lat = append(lat, time.Since(t0))
		if err != nil || resp.StatusCode != 201 {
			b.Fatalf("status %v: %v", resp, err)
		}
		resp.Body.Close()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds())/1000, "p99-ms")
}
