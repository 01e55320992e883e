package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/ed807"
)

// bik imports the Bank of Russia's BIK directory.
func (m *Main) bik(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "bik", "Usage: crmhub bik import FILE   (the Bank of Russia's ED807 directory: the XML or its zip)", args,
		subcommand{"import", m.bikImport})
}

// maxDirectoryBytes bounds an unpacked directory: a full one is ~5 MB.
const maxDirectoryBytes = 256 << 20

func (m *Main) bikImport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("bik import", "bik import FILE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("bik import needs one file")
	}
	r, closeFile, err := openDirectory(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	defer closeFile()
	d, err := ed807.NewDecoder(r)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if err := d.Root(); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if d.CreationReason != "" && d.CreationReason != ed807.Full {
		return fmt.Errorf("%s: a directory of changes (CreationReason %s), not the full one (%s): import the full ED807",
			fs.Arg(0), d.CreationReason, ed807.Full)
	}
	dir := core.BankImport{}
	if dir.Date, err = core.ParseDate(d.EDDate); err != nil {
		return fmt.Errorf("%s: EDDate %q is not a date", fs.Arg(0), d.EDDate)
	}
	if d.BusinessDay != "" {
		if dir.BusinessDay, err = core.ParseDate(d.BusinessDay); err != nil {
			return fmt.Errorf("%s: BusinessDay %q is not a date", fs.Arg(0), d.BusinessDay)
		}
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		res, err := st.ReplaceBanks(ctx, dir, d.NextBank)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(m.Stdout, "imported the BIK directory of %s: %d banks, %d new, %d no longer listed (liquidated)\n",
			dir.Date.Format("02.01.2006"), res.Banks, res.Added, res.Removed)
		return nil
	})
}

// openDirectory opens the directory's XML, or the one XML file of the zip
// the Bank of Russia publishes it in (read within maxDirectoryBytes).
func openDirectory(name string) (io.Reader, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if !bytes.Equal(head[:n], []byte("PK\x03\x04")) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("not a zip archive: %w", err)
	}
	var xmls []*zip.File
	for _, e := range zr.File {
		if strings.EqualFold(path.Ext(e.Name), ".xml") {
			xmls = append(xmls, e)
		}
	}
	if len(xmls) != 1 {
		f.Close()
		return nil, nil, fmt.Errorf("the zip holds %d XML files: a directory's zip holds one", len(xmls))
	}
	rc, err := xmls[0].Open()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return &limitedReader{r: rc, left: maxDirectoryBytes}, func() { rc.Close(); f.Close() }, nil
}

// limitedReader fails past its limit instead of ending quietly, so that a
// zip bomb is an error, not a truncated directory.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("the directory unpacks to more than %d MB", maxDirectoryBytes>>20)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, fmt.Errorf("the directory unpacks to more than %d MB", maxDirectoryBytes>>20)
	}
	return n, err
}
