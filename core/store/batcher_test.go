package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestGroupCommitConflict: creates that share a group commit with one that
// breaks a unique key all succeed; of those racing for the key, one wins
// and the others hear a conflict.
func TestGroupCommitConflict(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("u%d@example.ru", i)
			if i%10 == 0 {
				email = "same@example.ru"
			}
			_, errs[i] = s.Users().Create(ctx, core.Patch{"name": []byte(fmt.Sprintf(`"Менеджер %d"`, i)),
				"email": []byte(`"` + email + `"`)})
		}()
	}
	wg.Wait()
	conflicts := 0
	for i, err := range errs {
		if i%10 != 0 {
			require.NoError(t, err, "an innocent create sharing the batch")
			continue
		}
		if err != nil {
			require.Equal(t, core.ECONFLICT, core.ErrorCode(err), err)
			conflicts++
		}
	}
	require.Equal(t, 3, conflicts, "one of four creates with one e-mail wins")
	var n int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM users WHERE email LIKE '%@example.ru'`).Scan(&n))
	require.Equal(t, 37, n)
}
