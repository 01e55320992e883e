package ratesfeed_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/ratesfeed"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestFetch: the feed fetches a real-format file (windows-1251, as the
// Bank serves it) from a server on loopback and stores the day; a broken
// answer stores nothing and says why.
func TestFetch(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("../../exchange/cbrrates/testdata/cbrXMLdaily-XML_daily.xml")
	require.NoError(t, err)
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml; charset=windows-1251")
		if broken.Load() {
			_, _ = w.Write([]byte("<html>maintenance</html>"))
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	st := storetest.NewStore(t)
	f, err := ratesfeed.New(ratesfeed.Config{URL: srv.URL + "/scripts/XML_daily.asp"}, st)
	require.NoError(t, err)
	ctx := context.Background()
	n, err := f.Fetch(ctx)
	require.NoError(t, err)
	require.Equal(t, 34, n)
	usd, err := st.Rate(ctx, "USD", time.Date(2022, 3, 16, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, "2022-03-15", usd.Date.Format("2006-01-02"), "the rate in force the next day")
	require.True(t, usd.Rate.IsPositive())
	broken.Store(true)
	_, err = f.Fetch(ctx)
	require.ErrorContains(t, err, "ValCurs")

	_, err = ratesfeed.New(ratesfeed.Config{URL: "ftp://x"}, st)
	require.Error(t, err)
}
