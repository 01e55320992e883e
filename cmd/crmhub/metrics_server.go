package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// metricsServer serves /metrics on a listener of its own (metrics.addr),
// which the API's then does not serve.
type metricsServer struct {
	srv  *http.Server
	addr string
	errc chan error
}

// startMetrics listens on addr and serves h there until stop.
func startMetrics(addr string, h http.Handler, log *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.addr: %w", err)
	}
	m := &metricsServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second}, addr: ln.Addr().String(), errc: make(chan error, 1)}
	go func() { m.errc <- m.srv.Serve(ln) }()
	log.Info("metrics_listening", "addr", m.addr)
	return m, nil
}

// stop closes the listener, letting scrapes in flight finish within
// timeout.
func (m *metricsServer) stop(timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		log.Error("metrics_shutdown", "error", err)
	}
	if err := <-m.errc; !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics_serve", "error", err)
	}
}
