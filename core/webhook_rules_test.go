package core_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestWebhookSecret(t *testing.T) {
	t.Parallel()

	t.Run("NewIsStandardWebhooksForm", func(t *testing.T) {
		t.Parallel()
		s, err := core.NewWebhookSecret()
		require.NoError(t, err)
		b64, ok := strings.CutPrefix(s, "whsec_")
		require.True(t, ok, s)
		key, err := base64.StdEncoding.Strict().DecodeString(b64)
		require.NoError(t, err)
		require.Len(t, key, 32)
		require.True(t, core.ValidWebhookSecret(s))
	})

	t.Run("NewIsRandom", func(t *testing.T) {
		t.Parallel()
		a, err := core.NewWebhookSecret()
		require.NoError(t, err)
		b, err := core.NewWebhookSecret()
		require.NoError(t, err)
		require.NotEqual(t, a, b)
	})

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		key := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
		for _, c := range []struct {
			name string
			s    string
			ok   bool
		}{
			{"ThirtyTwoBytes", "whsec_" + key(32), true},
			{"TwentyFourBytes", "whsec_" + key(24), true},
			{"SixtyFourBytes", "whsec_" + key(64), true},
			{"TooShort", "whsec_" + key(23), false},
			{"TooLong", "whsec_" + key(65), false},
			{"NoPrefix", key(32), false},
			{"OtherPrefix", "whsek_" + key(32), false},
			{"Unpadded", "whsec_" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)), false},
			{"URLAlphabet", "whsec_" + strings.ReplaceAll(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff", 16))), "/", "_"), false},
			{"Empty", "", false},
			{"PrefixOnly", "whsec_", false},
		} {
			require.Equal(t, c.ok, core.ValidWebhookSecret(c.s), c.name)
		}
	})
}

func TestValidateWebhookURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		url       string
		allowHTTP bool
		want      string // part of the message; "" for valid
	}{
		{"HTTPS", "https://example.ru/hooks/crm?token=abc", false, ""},
		{"HTTPSPort", "https://example.ru:8443/hooks", false, ""},
		{"HTTPSIP", "https://192.0.2.10/hooks", false, ""},
		{"HTTPSIPv6", "https://[2001:db8::1]:8443/", false, ""},
		{"HTTPAllowed", "http://example.ru/hooks", true, ""},
		{"UpperScheme", "HTTPS://example.ru/", false, ""},
		{"HTTPRefused", "http://example.ru/hooks", false, "must use https"},
		{"Empty", "", false, "required"},
		{"Relative", "/hooks/crm", false, "absolute https"},
		{"NoScheme", "example.ru/hooks", false, "absolute https"},
		{"FTP", "ftp://example.ru/", true, `not "ftp"`},
		{"NoHost", "https:///hooks", false, "no host"},
		{"PortOnly", "https://:443/hooks", false, "no host"},
		{"Opaque", "https:example.ru", false, "no host"},
		{"UserInfo", "https://user@example.ru/", false, "user name or password"},
		{"Password", "https://user:secret@example.ru/", false, "user name or password"},
		{"Fragment", "https://example.ru/hooks#part", false, "fragment"},
		{"EmptyFragment", "https://example.ru/hooks#", false, "fragment"},
		{"BadPort", "https://example.ru:99999/", false, "port"},
		{"ZeroPort", "https://example.ru:0/", false, "port"},
		{"ControlCharacter", "https://example.ru/\n", false, "not a valid URL"},
		{"TooLong", "https://example.ru/" + strings.Repeat("a", 2000), false, "more than 2000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := core.ValidateWebhookURL(c.url, c.allowHTTP)
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, core.EINVALID, core.ErrorCode(err))
			require.Contains(t, core.ErrorMessage(err), c.want)
			require.NotContains(t, err.Error(), "secret", "the message quotes no credential")
		})
	}
	t.Run("LongestAccepted", func(t *testing.T) {
		t.Parallel()
		u := "https://example.ru/"
		require.NoError(t, core.ValidateWebhookURL(u+strings.Repeat("a", 2000-len(u)), false))
	})
}

func TestWebhookExtraHeaders(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		h    map[string]string
		want string // part of the message; "" for valid
	}{
		{"None", nil, ""},
		{"Some", map[string]string{"Authorization": "Bearer t0ken", "X-Tenant": "42", "X-Empty": ""}, ""},
		{"Tab", map[string]string{"X-Tab": "a\tb"}, ""},
		{"Unicode", map[string]string{"X-Name": "Переговоры"}, ""},
		{"WebhookID", map[string]string{"Webhook-Id": "x"}, "the sender sets it"},
		{"WebhookOther", map[string]string{"webhook-anything": "x"}, "the sender sets it"},
		{"ContentType", map[string]string{"content-type": "text/plain"}, "the sender sets it"},
		{"ContentLength", map[string]string{"Content-Length": "1"}, "the sender sets it"},
		{"Host", map[string]string{"HOST": "internal"}, "the sender sets it"},
		{"UserAgent", map[string]string{"User-Agent": "x"}, "the sender sets it"},
		{"TransferEncoding", map[string]string{"Transfer-Encoding": "chunked"}, "the sender sets it"},
		{"EmptyName", map[string]string{"": "x"}, "HTTP token"},
		{"SpaceInName", map[string]string{"X Tenant": "x"}, "HTTP token"},
		{"ColonInName", map[string]string{"X-Tenant:": "x"}, "HTTP token"},
		{"NonASCIIName", map[string]string{"X-Имя": "x"}, "HTTP token"},
		{"CRLF", map[string]string{"X-Evil": "a\r\nHost: internal"}, "control characters"},
		{"LF", map[string]string{"X-Evil": "a\nb"}, "control characters"},
		{"NUL", map[string]string{"X-Evil": "a\x00b"}, "control characters"},
		{"TooLong", map[string]string{"X-Long": strings.Repeat("a", 1024)}, "more than 1024"},
		{"TooMany", manyHeaders(21), "at most 20"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := core.ValidateExtraHeaders(c.h)
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, core.EINVALID, core.ErrorCode(err))
			require.Contains(t, core.ErrorMessage(err), c.want)
		})
	}
	t.Run("TwentyAccepted", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, core.ValidateExtraHeaders(manyHeaders(20)))
	})
	t.Run("LongestAccepted", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, core.ValidateExtraHeaders(map[string]string{"X-Long": strings.Repeat("a", 1024-len("X-Long"))}))
	})
	t.Run("ValueNeverQuoted", func(t *testing.T) {
		t.Parallel()
		err := core.ValidateExtraHeaders(map[string]string{"Authorization": "Bearer s3cret\n"})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret")
	})
}

func manyHeaders(n int) map[string]string {
	h := map[string]string{}
	for i := range n {
		h["X-H"+string(rune('a'+i))] = "v"
	}
	return h
}

func TestWebhookBackoff(t *testing.T) {
	t.Parallel()
	t.Run("LowestJitterIsHalfTheBase", func(t *testing.T) {
		t.Parallel()
		for attempt, want := range map[int]time.Duration{
			1: 2500 * time.Millisecond, 2: 5 * time.Second, 3: 10 * time.Second, 4: 20 * time.Second,
			10: 1280 * time.Second, 11: 30 * time.Minute, 12: 30 * time.Minute, 1000: 30 * time.Minute,
		} {
			require.Equal(t, want, core.WebhookBackoff(attempt, 0), "attempt %d", attempt)
		}
	})
	t.Run("HighestJitterApproachesTheBase", func(t *testing.T) {
		t.Parallel()
		for attempt, base := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 11: time.Hour, 50: time.Hour} {
			got := core.WebhookBackoff(attempt, 0.999999)
			require.Less(t, got, base, "attempt %d", attempt)
			require.Greater(t, got, base*99/100, "attempt %d", attempt)
		}
	})
	t.Run("MidJitter", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, 3750*time.Millisecond, core.WebhookBackoff(1, 0.5))
		require.Equal(t, 45*time.Minute, core.WebhookBackoff(20, 0.5))
	})
	t.Run("OutOfRangeInputs", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, core.WebhookBackoff(1, 0), core.WebhookBackoff(0, 0))
		require.Equal(t, core.WebhookBackoff(1, 0), core.WebhookBackoff(-5, -1))
		require.LessOrEqual(t, core.WebhookBackoff(30, 7), time.Hour)
		require.Equal(t, 30*time.Minute, core.WebhookBackoff(int(^uint(0)>>1), 0), "no overflow")
	})
	t.Run("NeverDecreases", func(t *testing.T) {
		t.Parallel()
		for attempt := 1; attempt < 40; attempt++ {
			require.LessOrEqual(t, core.WebhookBackoff(attempt, 0), core.WebhookBackoff(attempt+1, 0))
		}
	})
}

func TestWebhookEventPatterns(t *testing.T) {
	t.Parallel()
	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		for p, ok := range map[string]bool{
			"*": true, "crm.*": true, "crm.invoice.*": true, "crm.deal.updated": true,
			"crm.sales_order.created": true, "crm.workflow.my-rule": true, "crm.deal": true,
			"": false, "crm": false, "crm.": false, "deal.updated": false, "crm..updated": false,
			"crm.*.updated": false, "crm.deal*": false, "crm.Deal.updated": false, "**": false,
			"crm.deal.updated ": false, "crm.сделка.updated": false, "*.updated": false,
			"crm." + strings.Repeat("a", 200): false,
		} {
			require.Equal(t, ok, core.ValidEventPattern(p), "%q", p)
		}
	})
	t.Run("Match", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			pattern, typ string
			match        bool
		}{
			{"*", "crm.lead.created", true},
			{"*", "", false},
			{"crm.*", "crm.lead.created", true},
			{"crm.*", "crm.workflow.rule", true},
			{"crm.*", "crm", false},
			{"crm.*", "crm.", false},
			{"crm.*", "crmx.lead.created", false},
			{"crm.invoice.*", "crm.invoice.paid", true},
			{"crm.invoice.*", "crm.invoice.updated", true},
			{"crm.invoice.*", "crm.invoice", false},
			{"crm.invoice.*", "crm.invoices.updated", false},
			{"crm.invoice.*", "crm.deal.updated", false},
			{"crm.deal.updated", "crm.deal.updated", true},
			{"crm.deal.updated", "crm.deal.created", false},
			{"crm.deal.updated", "crm.deal.updated.extra", false},
			{"crm.deal", "crm.deal.updated", false},
			{"crm.deal.updated", "CRM.deal.updated", false},
		} {
			require.Equal(t, c.match, core.MatchEventType(c.pattern, c.typ), "%q ~ %q", c.pattern, c.typ)
		}
	})
}
