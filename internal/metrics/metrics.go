// Package metrics owns Taskmind's Prometheus metrics on a private registry,
// so tests can create as many servers as they like and nothing leaks into
// the global default registry.
package metrics

import (
	"database/sql"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of Taskmind's instruments.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	gqlOps        *prometheus.CounterVec
	gqlDuration   *prometheus.HistogramVec
	subscriptions prometheus.Gauge
	inferRequests *prometheus.CounterVec
	inferDuration *prometheus.HistogramVec
	inferQueue    *prometheus.GaugeVec
	inferBatch    *prometheus.HistogramVec
	ready         prometheus.Gauge
}

// BuildInfo describes the running binary.
type BuildInfo struct{ Version, Revision string }

// New registers every instrument, the Go runtime and process collectors, and
// the build info.
func New(build BuildInfo) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskmind_http_requests_total",
			Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskmind_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		gqlOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskmind_graphql_operations_total",
			Help: "GraphQL operations by operation name, type and result code (OK or an error code).",
		}, []string{"operation", "type", "code"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskmind_graphql_operation_duration_seconds",
			Help:    "GraphQL operation latency by operation name and type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "type"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "taskmind_subscriptions_open",
			Help: "GraphQL subscriptions currently open.",
		}),
		inferRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskmind_inference_requests_total",
			Help: "Inference requests by model and status (ok, error, timeout, rejected).",
		}, []string{"model", "status"}),
		inferDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskmind_inference_duration_seconds",
			Help:    "Inference latency by model, including time queued for an instance.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"model"}),
		inferQueue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "taskmind_inference_queue_depth",
			Help: "Inference requests waiting for a free model instance.",
		}, []string{"model"}),
		inferBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskmind_inference_batch_requests",
			Help:    "Requests merged into each model run: 1 when idle, more when requests queued for an instance.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}, []string{"model"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "taskmind_ready",
			Help: "1 when this replica is ready to serve traffic, 0 otherwise.",
		}),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "taskmind_build_info",
		Help:        "Always 1; labels describe the running build.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		m.httpRequests, m.httpDuration, m.gqlOps, m.gqlDuration, m.subscriptions,
		m.inferRequests, m.inferDuration, m.inferQueue, m.inferBatch, m.ready, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry exposes the private registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RegisterDB exports the pool statistics of db.
func (m *Metrics) RegisterDB(db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, "taskmind"))
}

// ObserveHTTP records one request; route must be a template, never a raw
// path, so that arbitrary URLs cannot create series.
func (m *Metrics) ObserveHTTP(method, route string, status int, d time.Duration) {
	method = methodLabel(method)
	m.httpRequests.WithLabelValues(method, route, statusLabel(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// ObserveGraphQL records one operation. operation must already be bounded by
// the caller (named operations of a validated document).
func (m *Metrics) ObserveGraphQL(operation, opType, code string, d time.Duration) {
	m.gqlOps.WithLabelValues(operation, opType, code).Inc()
	m.gqlDuration.WithLabelValues(operation, opType).Observe(d.Seconds())
}

// SubscriptionStarted and SubscriptionEnded track open subscriptions.
func (m *Metrics) SubscriptionStarted() { m.subscriptions.Inc() }

// SubscriptionEnded is the counterpart of SubscriptionStarted.
func (m *Metrics) SubscriptionEnded() { m.subscriptions.Dec() }

// ObserveInference records one inference request.
func (m *Metrics) ObserveInference(model, status string, d time.Duration) {
	m.inferRequests.WithLabelValues(model, status).Inc()
	if status == "ok" {
		m.inferDuration.WithLabelValues(model).Observe(d.Seconds())
	}
}

// SetQueueDepth reports how many requests wait for a model instance.
func (m *Metrics) SetQueueDepth(model string, n int) {
	m.inferQueue.WithLabelValues(model).Set(float64(n))
}

// ObserveBatch records how many requests one model run served.
func (m *Metrics) ObserveBatch(model string, requests int) {
	m.inferBatch.WithLabelValues(model).Observe(float64(requests))
}

// ForgetModel drops a deleted model's series.
func (m *Metrics) ForgetModel(model string) {
	m.inferQueue.DeleteLabelValues(model)
	m.inferBatch.DeleteLabelValues(model)
	m.inferDuration.DeleteLabelValues(model)
	for _, s := range []string{"ok", "error", "timeout", "rejected"} {
		m.inferRequests.DeleteLabelValues(model, s)
	}
}

// SetReady flips the readiness gauge.
func (m *Metrics) SetReady(ready bool) {
	if ready {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
}

// methodLabel keeps the standard methods and buckets every other one: HTTP
// lets a client send any token as a method, so a raw method is as unbounded
// as a raw path.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}

func statusLabel(code int) string {
	// Three-digit codes only; anything odd is bucketed rather than trusted.
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}
