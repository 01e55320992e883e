package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "crmhub_http_request_duration_seconds",
		Help:    "HTTP request duration by method, route and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "status"})}
	if err := reg.Register(m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// observe records a request. Label values are kept by the registry, so the
// method must not be Fiber's view into a reused request buffer: it is
// mapped to a constant (the route is a registered path, also constant).
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.duration.WithLabelValues(methodLabel(method), route, strconv.Itoa(status)).Observe(d.Seconds())
}

func methodLabel(m string) string {
	for _, known := range []string{"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"} {
		if m == known {
			return known
		}
	}
	return "OTHER"
}
