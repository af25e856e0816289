package sync

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/omniphone/omniphone/crm"
)

// metrics are the engine's Prometheus metrics: jobs and calls by state
// (read from the database on scrape), Bitrix24 requests by method and
// outcome (from b24.Client.Stats), and the latency from call end to CRM.
type metrics struct {
	reg      *prometheus.Registry
	latency  prometheus.Histogram
	requests prometheus.Histogram
	failed   prometheus.Counter
}

var (
	descJobs   = prometheus.NewDesc("omnisync_jobs", "River jobs by state.", []string{"state"}, nil)
	descCalls  = prometheus.NewDesc("omnisync_calls", "Calls in the ledger by state.", []string{"state"}, nil)
	descB24Req = prometheus.NewDesc("omnisync_bitrix24_requests_total", "Bitrix24 requests by portal, method and outcome (ok or the error code).", []string{"portal", "method", "outcome"}, nil)
)

func newMetrics(e *Engine) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "omnisync_call_to_crm_seconds", Help: "Time from the end of a call to its plan carried out in Bitrix24.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800},
		}),
		requests: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "omnisync_call_bitrix24_requests", Help: "Bitrix24 requests one call took (recording upload and delayed steps not counted).",
			Buckets: []float64{1, 2, 3, 4, 6},
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "omnisync_calls_failed_total", Help: "Calls given up on."}),
	}
	m.reg.MustRegister(m.latency, m.requests, m.failed, collector{e}, collectors.NewGoCollector())
	return m
}

func (m *metrics) callDone(call crm.Call, now time.Time, requests int) {
	m.latency.Observe(now.Sub(call.EndedAt).Seconds())
	m.requests.Observe(float64(requests))
}

func (m *metrics) callFailed() { m.failed.Inc() }

// Metrics serves /metrics.
func (e *Engine) Metrics() http.Handler {
	return promhttp.HandlerFor(e.metrics.reg, promhttp.HandlerOpts{})
}

type collector struct{ e *Engine }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descJobs
	ch <- descCalls
	ch <- descB24Req
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if jobs, err := countJobs(ctx, c.e.q.db()); err == nil {
		for s, n := range jobs {
			ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(n), s)
		}
	}
	if calls, err := countCalls(ctx, c.e.q.db()); err == nil {
		for s, n := range calls {
			ch <- prometheus.MustNewConstMetric(descCalls, prometheus.GaugeValue, float64(n), s)
		}
	}
	for portal, methods := range c.e.Stats() {
		for method, st := range methods {
			failed := 0
			for code, n := range st.Failures {
				failed += n
				ch <- prometheus.MustNewConstMetric(descB24Req, prometheus.CounterValue, float64(n), portal, method, code)
			}
			ch <- prometheus.MustNewConstMetric(descB24Req, prometheus.CounterValue, float64(st.Requests-failed), portal, method, "ok")
		}
	}
}
