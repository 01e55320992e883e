package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestCaptureFormConcurrentRepeats: a site builder delivering the same
// submission several times at once, among other visitors' submissions,
// makes one lead; every delivery hears of that lead, and the others'
// submissions sharing the group commit are all captured.
func TestCaptureFormConcurrentRepeats(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	sub := func(key, phone string) core.FormSubmission {
		return core.FormSubmission{Form: "tilda", Key: key, Target: core.FormTargetLead, Duplicates: core.FormDupAttach,
			Dup: core.DuplicateKeys{Phones: []string{phone}},
			Record: core.Patch{"last_name": []byte(`"Петров"`), "company": []byte(`"Не указана"`),
				"phone": []byte(`"` + phone + `"`), "source": []byte(`"web_site"`)}}
	}
	var wg sync.WaitGroup
	results := make([]*core.FormResult, 16)
	errs := make([]error, 32)
	for i := range 16 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.CaptureForm(ctx, sub("same", "+79260000001"))
		}()
		go func() { // someone else
			defer wg.Done()
			_, errs[16+i] = s.CaptureForm(ctx, sub(fmt.Sprint("other-", i), fmt.Sprintf("+7926100%04d", i)))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	created := 0
	for _, r := range results {
		require.Equal(t, results[0].ID, r.ID, "every delivery lands on the one lead")
		if !r.Repeat {
			created++
		}
	}
	require.Equal(t, 1, created, "one delivery captured it, the others are repeats")
	var leads, subs int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM webform_submissions)`).
		Scan(&leads, &subs))
	require.Equal(t, 17, leads)
	require.Equal(t, 17, subs)
}
