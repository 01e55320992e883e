package store

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestTranslateInputErrors: a value the domain checks missed, which the
// database refuses as out of range or as a NUL, is the caller's 422, not
// an internal error.
func TestTranslateInputErrors(t *testing.T) {
	t.Parallel()
	for state, code := range map[string]string{"22003": "out_of_range", "22021": "control_character", "22P05": "control_character"} {
		err := translate(fmt.Errorf("update invoice: %w", &pgconn.PgError{Code: state}), core.EntityInvoice)
		require.Equal(t, core.EINVALID, core.ErrorCode(err), state)
		require.Equal(t, code, core.ErrorFields(err)[0].Code, state)
	}
	require.Equal(t, core.EINTERNAL, core.ErrorCode(translate(&pgconn.PgError{Code: "XX000"}, core.EntityInvoice)))
}
