package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestCopyText(t *testing.T) {
	t.Parallel()
	var c core.CopyText
	c.Int(-7)
	c.Text("ул\tЛенина\\1\n2\r")
	c.TextOrNull("")
	c.Null()
	c.End()
	c.Text("")
	c.End()
	require.Equal(t, "-7\tул\\tЛенина\\\\1\\n2\\r\t\\N\t\\N\n\n", string(c.Bytes()))
	c.Reset()
	require.Zero(t, c.Len())
}
