package kafka

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// frame is a request frame: size, api key, version, correlation id, rest.
func frame(key kmsg.Key, version int16, corr int32, rest int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+rest))
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	return append(b, make([]byte, rest)...)
}

// TestScanFollowsFrames: the OffsetFetch requests are found however the
// stream is cut into reads, between requests of other keys and sizes.
func TestScanFollowsFrames(t *testing.T) {
	var stream []byte
	stream = append(stream, frame(kmsg.Produce, 9, 1, 300)...)
	stream = append(stream, frame(kmsg.OffsetFetch, 8, 2, 20)...)
	stream = append(stream, 0, 0, 0, 3, 0, 9, 0) // a frame shorter than a header
	stream = append(stream, frame(kmsg.Heartbeat, 4, 3, 0)...)
	stream = append(stream, frame(kmsg.OffsetFetch, 5, 4, 1)...)
	for _, cut := range []int{1, 3, 7, 8, 13, len(stream)} {
		c := &mendingConn{fetches: map[int32]int16{}}
		for b := stream; len(b) > 0; b = b[min(cut, len(b)):] {
			c.scan(b[:min(cut, len(b))])
		}
		require.Equal(t, map[int32]int16{2: 8, 4: 5}, c.fetches, "reads of %d bytes", cut)
	}
}

// TestMendOffsetFetch: a null metadata, at a group-per-request version
// and a grouped one, becomes ""; a given one stays.
func TestMendOffsetFetch(t *testing.T) {
	for _, version := range []int16{5, 6, 8} {
		resp := kmsg.NewPtrOffsetFetchResponse()
		resp.Version = version
		given := "m"
		if version < 8 {
			resp.Topics = []kmsg.OffsetFetchResponseTopic{{Topic: "crm.lead", Partitions: []kmsg.OffsetFetchResponseTopicPartition{
				{Partition: 0, Offset: -1}, {Partition: 1, Offset: 7, Metadata: &given}}}}
		} else {
			resp.Groups = []kmsg.OffsetFetchResponseGroup{{Group: "g", Topics: []kmsg.OffsetFetchResponseGroupTopic{{Topic: "crm.lead",
				Partitions: []kmsg.OffsetFetchResponseGroupTopicPartition{{Partition: 0, Offset: -1}, {Partition: 1, Offset: 7, Metadata: &given}}}}}}
		}
		b := binary.BigEndian.AppendUint32(nil, 0)
		b = binary.BigEndian.AppendUint32(b, 42)
		if resp.IsFlexible() {
			b = append(b, 0)
		}
		b = resp.AppendTo(b)
		binary.BigEndian.PutUint32(b, uint32(len(b)-4))

		out := mendOffsetFetch(b, version)
		require.Equal(t, uint32(len(out)-4), binary.BigEndian.Uint32(out), "v%d: the size is the new body's", version)
		require.Equal(t, b[4:8], out[4:8], "v%d: the correlation id stays", version)
		got := kmsg.NewPtrOffsetFetchResponse()
		got.Version = version
		start := 8
		if got.IsFlexible() {
			start++
		}
		require.NoError(t, got.ReadFrom(out[start:]))
		var metadata []*string
		for _, tp := range got.Topics {
			for _, p := range tp.Partitions {
				metadata = append(metadata, p.Metadata)
			}
		}
		for _, g := range got.Groups {
			for _, tp := range g.Topics {
				for _, p := range tp.Partitions {
					metadata = append(metadata, p.Metadata)
				}
			}
		}
		require.Len(t, metadata, 2)
		require.NotNil(t, metadata[0], "v%d", version)
		require.Equal(t, "", *metadata[0], "v%d", version)
		require.Equal(t, "m", *metadata[1], "v%d", version)
	}
	require.Equal(t, []byte{1, 2, 3}, mendOffsetFetch([]byte{1, 2, 3}, 6), "a frame too short to decode passes as is")
}
