package store_test

import (
	"context"
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

// TestPutWebFormCustomFields: a form names only live custom fields of its
// target, checked on the transaction the call joins; a submission reads
// the definitions through the store's cache.
func TestPutWebFormCustomFields(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	_, err := s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer"}`))
	require.NoError(t, err)
	fields := func(err error) []string {
		var ce *core.Error
		require.ErrorAs(t, err, &ce)
		var out []string
		for _, f := range ce.Fields {
			out = append(out, f.Field+":"+f.Code)
		}
		return out
	}

	err = s.Atomically(ctx, func(ctx context.Context) error {
		_, err := s.PutWebForm(ctx, core.WebForm{Slug: "f", Fields: map[string]string{"Штат": "custom.staff", "Отрасль": "custom.segment"},
			Required: []string{"custom.segment"}, Defaults: map[string]string{"custom.staff": "много"}}, 0)
		return err
	})
	require.ElementsMatch(t, []string{"fields.Отрасль:unknown_field", "required[0]:unknown_field", "defaults.custom.staff:invalid_type"},
		fields(err))

	err = s.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.CreateCustomField(ctx, core.EntityLead, patch(t, `{"key": "segment", "label": {"ru": "Сегмент"}, "type": "text"}`)); err != nil {
			return err
		}
		_, err := s.PutWebForm(ctx, core.WebForm{Slug: "f", Fields: map[string]string{"Штат": "custom.staff", "Отрасль": "custom.segment"}}, 0)
		return err
	})
	require.NoError(t, err, "a field defined in the same transaction is seen")
	f, err := s.PutWebForm(ctx, core.WebForm{Slug: "f", Fields: map[string]string{"Штат": "custom.staff"}, Hidden: map[string]string{"custom.segment": "опт"}}, 1)
	require.NoError(t, err)
	require.Equal(t, int64(2), f.Version)

	defs, err := s.FormCustomFields(ctx, core.FormTargetLead)
	require.NoError(t, err)
	require.Len(t, defs, 2)
	defs, err = s.FormCustomFields(ctx, core.FormTargetDeal)
	require.NoError(t, err)
	require.Empty(t, defs)
}
