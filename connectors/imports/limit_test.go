package imports_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// leadRows returns a header and n leads, after a title and a blank row;
// the leads' e-mails are at domain (firm.ru when not given).
func leadRows(n int, domain ...string) [][]any {
	at := "firm.ru"
	if len(domain) > 0 {
		at = domain[0]
	}
	rows := [][]any{{"Лиды на 27.11.2026"}, {}, {"Фамилия", "Компания", "E-mail"}}
	for i := range n {
		rows = append(rows, []any{fmt.Sprintf("Клиент %d", i), "ООО", fmt.Sprintf("l%d@%s", i, at)})
	}
	return rows
}

func TestRowLimitRefusesBeforeWriting(t *testing.T) {
	t.Parallel()
	runLimited := func(t *testing.T, file []byte) (*core.Import, int) {
		st := storetest.NewStore(t)
		ctx := context.Background()
		im, err := st.CreateImport(ctx, core.ImportOptions{Entity: core.EntityLead}, "leads.xlsx", file)
		require.NoError(t, err)
		r := imports.New(imports.Config{BatchSize: 2, Limits: xlsx.Limits{MaxRows: 5}}, st)
		ran, err := r.RunOnce(ctx, nil)
		require.NoError(t, err)
		require.True(t, ran)
		im, err = st.GetImport(ctx, im.ID)
		require.NoError(t, err)
		return im, count(t, st, `SELECT count(*) FROM leads`)
	}

	t.Run("AtTheLimit", func(t *testing.T) {
		t.Parallel()
		im, leads := runLimited(t, book(t, leadRows(5)...))
		require.Equal(t, "done", im.Status, im.Error)
		require.Equal(t, 5, leads, "the title, the blank row and the header are not data rows")
	})
	t.Run("OneRowMore", func(t *testing.T) {
		t.Parallel()
		im, leads := runLimited(t, book(t, leadRows(6)...))
		require.Equal(t, "failed", im.Status)
		require.Equal(t, "the sheet has more than 5 rows below its header: row 9 is one too many (split the file into parts of at most 5 rows)", im.Error)
		require.Zero(t, leads, "nothing written")
		require.Zero(t, im.RowsDone)
	})
	t.Run("RowsMergedCellsFill", func(t *testing.T) {
		t.Parallel()
		f := excelize.NewFile()
		for i, r := range leadRows(2) {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			require.NoError(t, f.SetSheetRow("Sheet1", cell, &r))
		}
		require.NoError(t, f.MergeCell("Sheet1", "B5", "B10")) // «ООО» for rows 5–10
		require.NoError(t, f.SetSheetRow("Sheet1", "A11", &[]any{"Последний", "ООО"}))
		var b bytes.Buffer
		_, err := f.WriteTo(&b)
		require.NoError(t, err)
		im, leads := runLimited(t, b.Bytes())
		require.Equal(t, "failed", im.Status)
		require.Contains(t, im.Error, "more than 5 rows")
		require.Zero(t, leads)
	})
}
