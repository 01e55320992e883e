package webhooks

import (
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWebhookAddressClass(t *testing.T) {
	t.Parallel()
	for addr, class := range map[string]string{
		"93.184.216.34": "", "77.88.55.88": "", "2a02:6b8::2:242": "", "8.8.8.8": "",
		"127.0.0.1": "loopback", "127.255.255.254": "loopback", "::1": "loopback",
		"::ffff:127.0.0.1": "loopback", "64:ff9b::7f00:1": "loopback",
		"0.0.0.0": "unspecified", "::": "unspecified", "0.1.2.3": "unspecified (0.0.0.0/8)",
		"10.1.2.3": "private (RFC 1918)", "172.16.0.1": "private (RFC 1918)", "172.31.255.255": "private (RFC 1918)",
		"192.168.0.1": "private (RFC 1918)", "::ffff:192.168.0.1": "private (RFC 1918)", "64:ff9b::a00:1": "private (RFC 1918)",
		"fc00::1": "private (unique local, fc00::/7)", "fd00::1": "private (unique local, fc00::/7)",
		"169.254.169.254": "cloud metadata", "::ffff:169.254.169.254": "cloud metadata", "fd00:ec2::254": "cloud metadata",
		"169.254.0.1": "link-local", "fe80::1": "link-local", "fe80::1%eth0": "link-local",
		"224.0.0.1": "multicast", "239.1.1.1": "multicast", "ff02::1": "multicast",
		"100.64.0.1": "shared (carrier-grade NAT, 100.64.0.0/10)", "100.127.255.255": "shared (carrier-grade NAT, 100.64.0.0/10)",
		"100.63.255.255": "", "100.128.0.0": "", "172.32.0.1": "", "172.15.255.255": "",
		"255.255.255.255": "reserved (240.0.0.0/4, broadcast)", "240.0.0.1": "reserved (240.0.0.0/4, broadcast)",
		"198.18.0.1": "reserved (benchmarking)", "192.0.0.8": "reserved (IETF protocol assignments)",
		"::127.0.0.1": "reserved (IPv4-compatible IPv6)", "fec0::1": "private (site-local)",
	} {
		require.Equal(t, class, addressClass(netip.MustParseAddr(addr)), addr)
	}
}

func TestWebhookControl(t *testing.T) {
	t.Parallel()
	require.NoError(t, control("tcp4", "93.184.216.34:443", nil))
	err := control("tcp6", "[::ffff:10.0.0.1]:443", nil)
	var refused *RefusedAddressError
	require.ErrorAs(t, err, &refused)
	require.Equal(t, "private (RFC 1918)", refused.Class)
	require.ErrorContains(t, control("tcp6", "[fe80::1%eth0]:80", nil), "link-local")
	require.ErrorContains(t, control("tcp", "not-an-address", nil), "not an IP address")
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestWebhookReadBody(t *testing.T) {
	t.Parallel()
	t.Run("LargeReadsAtMost64KiB", func(t *testing.T) {
		t.Parallel()
		r := &countingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20))}
		require.Len(t, readBody(r), 1024)
		require.LessOrEqual(t, r.n, 64<<10)
		require.GreaterOrEqual(t, r.n, 64<<10-512, "reads on so a connection can be reused")
	})
	t.Run("Short", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "ok", string(readBody(strings.NewReader("ok"))))
	})
}

func TestWebhookRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "7": 7 * time.Second, " 120 ": 2 * time.Minute, "3600": time.Hour, "3601": time.Hour,
		"18446744073709551616": time.Hour, "-5": 0, "1.5": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(48 * time.Hour).Format(http.TimeFormat):   time.Hour,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		"Tuesday, 01-Dec-26 09:00:30 GMT":                 30 * time.Second, // RFC 850, which HTTP-date allows
	} {
		require.Equal(t, want, parseRetryAfter(v, now), "%q", v)
	}
}

func TestWebhookNoProxy(t *testing.T) {
	t.Parallel()
	s, err := NewSender(Config{})
	require.NoError(t, err)
	tr, ok := s.client.Transport.(*http.Transport)
	require.True(t, ok)
	require.Nil(t, tr.Proxy, "a proxy would connect to addresses the guard never sees")
	require.NotNil(t, s.client.CheckRedirect)
}
