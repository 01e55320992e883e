package webhooks_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webhooks"
)

func TestWebhookSenderRefusesPrivateNetworks(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, answer(http.StatusOK, ""))
	port := rc.Listener.Addr().(*net.TCPAddr).Port
	rc6, port6 := ipv6Receiver(t)
	s := newSender(t, webhooks.Config{AllowHTTP: true, Timeout: 2 * time.Second})
	rebinding := newSender(t, webhooks.Config{AllowHTTP: true, Timeout: 2 * time.Second,
		Resolver: fakeDNS(t, netip.MustParseAddr("127.0.0.1"))})
	at := func(host string, p int) string {
		return "http://" + net.JoinHostPort(host, strconv.Itoa(p)) + "/hooks?token=s3cret"
	}
	for _, c := range []struct {
		name   string
		sender *webhooks.Sender
		url    string
		class  string
	}{
		{"LoopbackIPv4", s, at("127.0.0.1", port), "loopback"},
		{"OtherLoopbackIPv4", s, at("127.0.0.2", port), "loopback"},
		{"Localhost", s, at("localhost", port), "loopback"},
		{"LoopbackIPv6", s, at("::1", port6), "loopback"},
		{"IPv4MappedLoopback", s, at("::ffff:127.0.0.1", port), "loopback"},
		{"NameResolvingToLoopback", rebinding, at("hooks.example.com", port), "loopback"},
		{"Unspecified", s, at("0.0.0.0", port), "unspecified"},
		{"Metadata", s, "http://169.254.169.254/latest/meta-data/", "cloud metadata"},
		{"LinkLocal", s, "http://169.254.1.1/", "link-local"},
		{"PrivateRFC1918", s, "http://10.0.0.1/", "private (RFC 1918)"},
		{"Private192", s, "http://192.168.1.1/", "private (RFC 1918)"},
		{"IPv4MappedPrivate", s, "http://[::ffff:10.0.0.1]/", "private (RFC 1918)"},
		{"UniqueLocal", s, "http://[fd12:3456::1]/", "unique local"},
		{"LinkLocalIPv6", s, "http://[fe80::1]/", "link-local"},
		{"CGNAT", s, "http://100.64.0.1/", "carrier-grade NAT"},
		{"Multicast", s, "http://224.0.0.1/", "multicast"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := c.sender.Send(t.Context(), delivery(t, c.url, newSecret(t)))
			require.Equal(t, webhooks.Failed, res.Outcome, "%v", res.Err)
			require.Zero(t, res.Status)
			var refused *webhooks.RefusedAddressError
			require.ErrorAs(t, res.Err, &refused)
			require.ErrorContains(t, res.Err, c.class)
			require.NotContains(t, res.Err.Error(), "s3cret")
		})
	}
	t.Cleanup(func() {
		require.Zero(t, len(rc.requests()), "no request reached the receiver on loopback")
		if rc6 != nil {
			require.Zero(t, len(rc6.requests()), "no request reached the receiver on ::1")
		}
	})
}

// ipv6Receiver is a receiver on [::1], or nil and an unused port where
// the machine has no IPv6 loopback.
func ipv6Receiver(t *testing.T) (*receiver, int) {
	t.Helper()
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return nil, 9
	}
	rc := &receiver{}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{})
		rc.mu.Unlock()
	}))
	_ = rc.Listener.Close()
	rc.Listener = l
	rc.Start()
	t.Cleanup(rc.Close)
	return rc, l.Addr().(*net.TCPAddr).Port
}

// TestWebhookSenderResolvesAtConnect: the name the rebinding test refuses
// does reach the receiver when private networks are allowed, so the
// refusal was of the address it resolved to, not of the name.
func TestWebhookSenderResolvesAtConnect(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, answer(http.StatusOK, ""))
	port := rc.Listener.Addr().(*net.TCPAddr).Port
	s := newSender(t, webhooks.Config{AllowHTTP: true, AllowPrivateNetworks: true,
		Resolver: fakeDNS(t, netip.MustParseAddr("127.0.0.1"))})
	secret := newSecret(t)
	res := s.Send(t.Context(), delivery(t, "http://hooks.example.com:"+strconv.Itoa(port)+"/", secret))
	require.Equal(t, webhooks.Delivered, res.Outcome, "%v", res.Err)
	reqs := rc.requests()
	require.Len(t, reqs, 1)
	require.NoError(t, verify(t, reqs[0], secret))
}
