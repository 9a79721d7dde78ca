package monitoring

import (
	"github.com/prometheus/client_golang/prometheus"
)

// stats counts the ingest's outcomes for Prometheus: readings accepted and rejected per tenant
// and reason, requests refused for their token, and MQTT messages by outcome (no tenant label:
// anyone may publish to a topic naming any slug). (The durable per-day rejection counts are in
// the tenant's monitoring_rejections.)
type stats struct {
	readings     *prometheus.CounterVec
	unauthorized *prometheus.CounterVec
	mqtt         *prometheus.CounterVec
}

func newStats() *stats {
	return &stats{
		readings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cityops_monitoring_readings_total",
			Help: "Readings posted to the monitoring ingest, by tenant and outcome (accepted or the rejection reason).",
		}, []string{"tenant", "outcome"}),
		unauthorized: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cityops_monitoring_unauthorized_total",
			Help: "Monitoring ingest requests refused for a missing or unknown device token, by tenant.",
		}, []string{"tenant"}),
		mqtt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cityops_monitoring_mqtt_messages_total",
			Help: "Messages taken from the MQTT broker, by outcome (taken, duplicate, bad_topic, malformed, unknown_tenant, not_entitled, unknown_device, refused).",
		}, []string{"outcome"}),
	}
}

// register adds the counters to reg (nil: not exposed).
func (st *stats) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{st.readings, st.unauthorized, st.mqtt} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (st *stats) count(tenant string, r *Result) {
	if r.Duplicate {
		return
	}
	st.readings.WithLabelValues(tenant, "accepted").Add(float64(r.Accepted))
	for reason, n := range r.Rejected {
		st.readings.WithLabelValues(tenant, reason).Add(float64(n))
	}
}
