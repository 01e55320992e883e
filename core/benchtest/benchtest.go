// Package benchtest holds what benchmarks share: the process's peak
// memory, reported next to their times.
package benchtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// PeakRSS reports the process's peak resident set (VmHWM, Linux) as the
// benchmark's "peak-RSS-MB" metric.
func PeakRSS(b *testing.B) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(kb/1024, "peak-RSS-MB")
			return
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
}
