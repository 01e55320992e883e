package kafka

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The embedded broker (kfake) answers an OffsetFetch for a partition
// with no committed metadata with a null metadata string, where Apache
// Kafka always sends "" (OffsetFetchResponse.NO_METADATA). Clients that
// read the field as a non-nullable string fail on it: sarama's consumer
// groups with Version 2.4 or later (OffsetFetch v6+) stop with "invalid
// byteslice length". kfake has no hook to change a response, so the
// broker's connections are wrapped: they note the correlation ids of
// OffsetFetch requests as kfake reads them and re-encode those answers,
// null metadata made "", as kfake writes them. Every other byte passes
// through untouched.

// mendingListener wraps the connections kfake accepts.
type mendingListener struct{ net.Listener }

func (l mendingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &mendingConn{Conn: c, fetches: map[int32]int16{}}, nil
}

// mendingConn is one client connection. kfake reads a connection from
// one goroutine and writes it from another, each response in one Write.
type mendingConn struct {
	net.Conn

	// Read side: where the reader is in the request stream.
	size    [4]byte
	sizeN   int
	head    [8]byte // api key, version, correlation id
	headN   int
	pending int // bytes of the current request not seen yet

	mu      sync.Mutex
	fetches map[int32]int16 // OffsetFetch requests awaiting their answer: correlation id → version
}

func (c *mendingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.scan(p[:n])
	return n, err
}

// scan follows the request frames: a 4-byte size, then that many bytes
// starting with the api key, the version and the correlation id (a frame
// shorter than that is kfake's to refuse).
func (c *mendingConn) scan(b []byte) {
	for len(b) > 0 {
		switch {
		case c.sizeN < len(c.size):
			k := copy(c.size[c.sizeN:], b)
			c.sizeN, b = c.sizeN+k, b[k:]
			if c.sizeN == len(c.size) {
				c.pending, c.headN = int(binary.BigEndian.Uint32(c.size[:])), 0
			}
		case c.headN < len(c.head):
			k := copy(c.head[c.headN:], b[:min(len(b), c.pending)])
			c.headN, c.pending, b = c.headN+k, c.pending-k, b[k:]
			if c.headN == len(c.head) && kmsg.Key(int16(binary.BigEndian.Uint16(c.head[0:2]))) == kmsg.OffsetFetch {
				c.mu.Lock()
				c.fetches[int32(binary.BigEndian.Uint32(c.head[4:8]))] = int16(binary.BigEndian.Uint16(c.head[2:4]))
				c.mu.Unlock()
			}
		default:
			k := min(len(b), c.pending)
			c.pending, b = c.pending-k, b[k:]
		}
		if c.sizeN == len(c.size) && c.pending == 0 {
			c.sizeN = 0 // the frame is read: the next one's size follows
		}
	}
}

func (c *mendingConn) Write(b []byte) (int, error) {
	if len(b) < 8 {
		return c.Conn.Write(b)
	}
	corr := int32(binary.BigEndian.Uint32(b[4:8]))
	c.mu.Lock()
	version, ok := c.fetches[corr]
	delete(c.fetches, corr)
	c.mu.Unlock()
	if !ok {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(mendOffsetFetch(b, version)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// mendOffsetFetch is the OffsetFetch response frame b (size, correlation
// id, header tags when flexible, body) with every null metadata made "";
// b itself when nothing is null or the body does not decode.
func mendOffsetFetch(b []byte, version int16) []byte {
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = version
	start := 8
	if resp.IsFlexible() {
		start++ // the response header's (empty) tagged fields
	}
	if len(b) < start || resp.ReadFrom(b[start:]) != nil {
		return b
	}
	mended := false
	mend := func(m **string) {
		if *m == nil {
			*m, mended = new(string), true
		}
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			mend(&resp.Topics[i].Partitions[j].Metadata)
		}
	}
	for i := range resp.Groups {
		for j := range resp.Groups[i].Topics {
			for k := range resp.Groups[i].Topics[j].Partitions {
				mend(&resp.Groups[i].Topics[j].Partitions[k].Metadata)
			}
		}
	}
	if !mended {
		return b
	}
	out := resp.AppendTo(append(make([]byte, 0, len(b)+64), b[:start]...))
	binary.BigEndian.PutUint32(out[:4], uint32(len(out)-4))
	return out
}
