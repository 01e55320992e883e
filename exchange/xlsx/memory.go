package xlsx

import (
	"archive/zip"
	"bytes"
	"strings"
)

// What a workbook may hold in memory once opened: excelize keeps every
// part unpacked in memory except the sheets and the shared strings larger
// than xmlInMemory, which it reads from temporary files as a stream. So an
// open workbook costs at most its file plus maxInMemory, whatever its rows.
const (
	xmlInMemory = 16 << 20
	maxInMemory = 128 << 20
)

// inMemory returns what the parts of the zip archive data that excelize
// keeps in memory unpack to (0 when it is not a zip archive: excelize says
// what is wrong with it).
func inMemory(data []byte, xmlLimit int64) int64 {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0
	}
	var sum int64
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		streamed := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if size := int64(min(f.UncompressedSize64, 1<<62)); !streamed || size <= xmlLimit {
			sum += size
		}
	}
	return sum
}
