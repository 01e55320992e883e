package api_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
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
