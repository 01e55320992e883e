package webhooks

import (
	"fmt"
	"net/netip"
	"syscall"
)

// RefusedAddressError is why a delivery was not sent: the receiver's name
// resolved to an address of a class the sender does not connect to
// without Config.AllowPrivateNetworks (a loopback, private, link-local,
// cloud metadata… address), so that a subscription cannot make the hub
// call its own or its network's internal services (SSRF).
type RefusedAddressError struct {
	Addr  netip.Addr
	Class string // e.g. "loopback", "private (RFC 1918)", "cloud metadata"
}

// Error implements the error interface.
func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s addresses are not allowed (receivers on private networks need webhooks.allow_private_networks)", e.Addr, e.Class)
}

// control is the sender's net.Dialer.Control: it runs on every address
// the dialer connects to, after the name is resolved and before the
// connection is made, so a name that resolves to a public address when
// checked and a private one when used (DNS rebinding) is refused too.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", address)
	}
	if class := addressClass(ap.Addr()); class != "" {
		return &RefusedAddressError{Addr: ap.Addr().WithZone(""), Class: class}
	}
	return nil
}

// addressClass names the class of a non-public address, "" for a public
// one. An IPv4 address in an IPv6 form (IPv4-mapped ::ffff:a.b.c.d, NAT64
// 64:ff9b::a.b.c.d) is judged as the IPv4 address it stands for.
func addressClass(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() && nat64().Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case isMetadata(a):
		return "cloud metadata"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.IsPrivate():
		if a.Is4() {
			return "private (RFC 1918)"
		}
		return "private (unique local, fc00::/7)"
	}
	for _, p := range nonPublic() {
		if p.prefix.Contains(a) {
			return p.class
		}
	}
	return ""
}

// isMetadata reports whether a is a cloud provider's instance metadata
// service: 169.254.169.254 (AWS, GCP, Azure, Yandex Cloud…, also
// link-local) and AWS's IPv6 fd00:ec2::254 (also unique local); named
// apart because it is the usual target of SSRF.
func isMetadata(a netip.Addr) bool {
	return a == netip.AddrFrom4([4]byte{169, 254, 169, 254}) || a == netip.MustParseAddr("fd00:ec2::254")
}

// nat64 is the well-known NAT64 prefix (RFC 6052), whose addresses embed
// an IPv4 address in their last 32 bits.
func nat64() netip.Prefix { return netip.MustParsePrefix("64:ff9b::/96") }

type classedPrefix struct {
	prefix netip.Prefix
	class  string
}

// nonPublic are the special-purpose ranges (RFC 6890) that netip.Addr's
// methods do not name and no receiver on the internet is in.
func nonPublic() []classedPrefix {
	return []classedPrefix{
		{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT, 100.64.0.0/10)"},
		{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (0.0.0.0/8)"},
		{netip.MustParsePrefix("192.0.0.0/24"), "reserved (IETF protocol assignments)"},
		{netip.MustParsePrefix("198.18.0.0/15"), "reserved (benchmarking)"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4, broadcast)"},
		{netip.MustParsePrefix("::/96"), "reserved (IPv4-compatible IPv6)"},
		{netip.MustParsePrefix("100::/64"), "reserved (discard-only)"},
		{netip.MustParsePrefix("fec0::/10"), "private (site-local)"},
	}
}
