package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// flushWriter buffers the access log and writes it out every interval and
// when the buffer fills: one syscall for many requests instead of one each.
// A crash loses at most one interval of access-log lines; the main log
// (warnings, errors) is not buffered.
type flushWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newFlushWriter(w io.Writer, interval time.Duration) *flushWriter {
	fw := &flushWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(fw.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fw.flush()
			case <-fw.stop:
				fw.flush()
				return
			}
		}
	}()
	return fw
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return fw.buf.Write(p)
}

func (fw *flushWriter) flush() {
	fw.mu.Lock()
	_ = fw.buf.Flush()
	fw.mu.Unlock()
}

// Close flushes what is left and stops the flusher.
func (fw *flushWriter) Close() {
	close(fw.stop)
	<-fw.done
}
