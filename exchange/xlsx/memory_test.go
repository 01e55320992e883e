package xlsx_test

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// TestOpenBoundsMemory refuses a workbook whose parts that an open
// workbook keeps in memory (all but its large sheets) unpack beyond the
// bound: a small upload must not cost gigabytes, whatever it holds.
func TestOpenBoundsMemory(t *testing.T) {
	t.Parallel()
	file := handmade(t, `<worksheet><sheetData/></worksheet>`, `<sst/>`)
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range zr.File {
		require.NoError(t, zw.Copy(f))
	}
	w, err := zw.Create("xl/media/image1.png") // 200 MiB of zeros, 200 KiB packed
	require.NoError(t, err)
	_, err = io.CopyN(w, zeros{}, 200<<20)
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	_, err = xlsx.Open(bytes.NewReader(b.Bytes()), xlsx.Limits{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "%v", err)
	require.Contains(t, core.ErrorMessage(err), "besides its sheets unpack to more than 134217728 bytes")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
