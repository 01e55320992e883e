package store_test

import (
	"fmt"
	"testing"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// BenchmarkCreateLead measures creates from concurrent callers, which the
// store coalesces into shared transactions (group commit).
func BenchmarkCreateLead(b *testing.B) {
	s := storetest.NewStore(b)
	ctx := apiCtx()
	b.SetParallelism(16) // 16 × GOMAXPROCS concurrent callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			p := core.Patch{"last_name": []byte(fmt.Sprintf(`"Петров %d"`, i)), "company": []byte(`"ООО Ромашка"`),
				"phone": []byte(`"8 (912) 345-67-89"`)}
			if _, err := s.Leads().Create(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
