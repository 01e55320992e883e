package webforms_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
)

// TestCyrillicMarketingKeepsTheFullLimit: a campaign name longer than
// the 200-character limit keeps 200 Cyrillic letters, not the 100 that
// fit in 200 bytes.
func TestCyrillicMarketingKeepsTheFullLimit(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "contact"}}})
	body := url.Values{"name": {"Иван Петров"}, "phone": {"+79161234567"}, "utm_campaign": {strings.Repeat("Ж", 300)}}
	resp := r.post(t, "contact", urlencoded, []byte(body.Encode()))
	require.Equal(t, 200, resp.Status, string(resp.Body))

	l := r.onlyLead(t)
	require.Equal(t, strings.Repeat("Ж", 200), l.Marketing.UTMCampaign)
}
