package monitoring

import (
	"strings"

	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// liveLevels are the map's colours, most severe first.
var liveLevels = []string{"critical", "warning", "info", "online", "offline"}

// LiveWords are the words of the live view's pages and script: the names of types, metrics,
// levels, alarm kinds, severities and states, and the units' names, in the page's language.
type LiveWords struct {
	Types    map[string]string       `json:"types"`
	Metrics  map[string][]LiveMetric `json:"metrics"`
	Levels   map[string]string       `json:"levels"`
	Kinds    map[string]string       `json:"kinds"`
	Severity map[string]string       `json:"severity"`
	States   map[string]string       `json:"states"`
	Units    map[string]string       `json:"units"`
	Text     map[string]string       `json:"text"`
}

// LiveMetric is a metric of a type, with its name.
type LiveMetric struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// words are the live view's words in l, with the names of units.
func words(l string, units []*tenants.Scope) LiveWords {
	w := LiveWords{Types: map[string]string{}, Metrics: map[string][]LiveMetric{}, Levels: map[string]string{}, Kinds: map[string]string{},
		Severity: map[string]string{}, States: map[string]string{}, Units: map[string]string{}, Text: map[string]string{}}
	for i := range Types {
		t := &Types[i]
		w.Types[t.Code] = t.Name(l)
		for j := range t.Metrics {
			m := &t.Metrics[j]
			w.Metrics[t.Code] = append(w.Metrics[t.Code], LiveMetric{m.Code, m.Name(l), m.Unit})
		}
	}
	for _, v := range liveLevels {
		w.Levels[v] = msg.TextOf(l, "monitoring.live.level."+v)
	}
	for _, k := range RuleKinds {
		w.Kinds[k] = msg.TextOf(l, "monitoring.live.kind."+k)
	}
	for _, s := range Severities {
		w.Severity[s] = msg.TextOf(l, "monitoring.live.severity."+s)
	}
	for _, s := range []string{AlarmRaised, AlarmAcknowledged, AlarmCleared} {
		w.States[s] = msg.TextOf(l, "monitoring.live.state."+s)
	}
	for _, u := range units {
		w.Units[u.Tenant.Slug] = u.Tenant.Name(l)
	}
	for k, id := range map[string]string{"open_case": "monitoring.live.open_case", "open_device": "monitoring.live.open_device",
		"status": "monitoring.page.status", "last_seen": "monitoring.page.last_seen", "latest": "monitoring.page.latest",
		"no_latest": "monitoring.page.no_latest", "live": "monitoring.live.status", "reconnecting": "monitoring.live.reconnecting",
		"loading": "monitoring.live.loading", "no_alarms": "monitoring.live.no_alarms", "alarm": "monitoring.live.in_alarm"} {
		w.Text[k] = msg.TextOf(l, id)
	}
	return w
}

// livePage is the data the map and the screen share.
func (h *handlers) livePage(c *fiber.Ctx) (fiber.Map, error) {
	ctx, sc := c.UserContext(), module.Scope(c)
	units, err := h.liveUnits(ctx, sc, module.Principal(c))
	if err != nil {
		return nil, err
	}
	if err := h.auditUnits(ctx, units, strings.Clone(c.Path())); err != nil {
		return nil, err
	}
	st, err := h.snapshot(ctx, units)
	if err != nil {
		return nil, err
	}
	l := h.k.Pages.Lang(c)
	w := words(l, units)
	return fiber.Map{"Base": base(c), "State": st, "Words": w, "TypeNames": w.Types, "Types": Types, "Levels": liveLevels,
		"Stream": base(c) + "/monitoring/live?since=" + st.Cursor, "Prefecture": sc.Tenant.Kind == tenants.Prefecture,
		"Units": w.Units, "Layers": []any{}}, nil
}

// pageMap is /monitoring/map: every device of the tenant (a prefecture: of its counties too) on
// the map coloured by its level, with a legend and a filter by type, and the open alarms beside
// it; the live stream keeps both up to date.
func (h *handlers) pageMap(c *fiber.Ctx) error {
	data, err := h.livePage(c)
	if err != nil {
		return err
	}
	return h.k.Pages.Render(c, "monitoring/map", data)
}

// pageScreen is /monitoring/screen: the big screen (大屏) of the same live view, full window
// and dark: counts by status and type, open alarms by severity, the map and the latest alarms.
func (h *handlers) pageScreen(c *fiber.Ctx) error {
	data, err := h.livePage(c)
	if err != nil {
		return err
	}
	return h.k.Pages.Render(c, "monitoring/screen", data)
}

// seriesChart is the ECharts option (static/js/charts.js) of a series: the values of raw
// readings, or the average of each bucket with its minimum and maximum, over a time axis. The
// table below the chart says the same for those who cannot see it.
func seriesChart(l, metricName string, ser *Series) map[string]any {
	line := func(name string, pts [][2]any, thin bool) map[string]any {
		s := map[string]any{"name": name, "type": "line", "data": pts, "showSymbol": len(pts) < 60, "smooth": false}
		if thin {
			s["lineStyle"] = map[string]any{"width": 1, "type": "dashed"}
		}
		return s
	}
	var series []map[string]any
	if ser.Resolution == "raw" {
		pts := make([][2]any, len(ser.Points))
		for i, p := range ser.Points {
			pts[i] = [2]any{p.At.UnixMilli(), p.Last}
		}
		series = append(series, line(msg.TextOf(l, "monitoring.page.value"), pts, false))
	} else {
		avg, lo, hi := make([][2]any, len(ser.Points)), make([][2]any, len(ser.Points)), make([][2]any, len(ser.Points))
		for i, p := range ser.Points {
			ms := p.At.UnixMilli()
			avg[i], lo[i], hi[i] = [2]any{ms, p.Avg}, [2]any{ms, p.Min}, [2]any{ms, p.Max}
		}
		series = append(series, line(msg.TextOf(l, "monitoring.page.avg"), avg, false),
			line(msg.TextOf(l, "monitoring.live.min"), lo, true), line(msg.TextOf(l, "monitoring.live.max"), hi, true))
	}
	name := metricName
	if ser.Unit != "" {
		name += " (" + ser.Unit + ")"
	}
	return map[string]any{"animation": false, "tooltip": map[string]any{"trigger": "axis"}, "legend": map[string]any{"top": 0},
		"grid":  map[string]any{"left": 48, "right": 24, "top": 40, "bottom": 40, "containLabel": true},
		"xAxis": map[string]any{"type": "time", "min": ser.From.UnixMilli(), "max": ser.To.UnixMilli()}, "yAxis": map[string]any{"type": "value", "name": name, "scale": true},
		"series": series}
}

// chartTitle is the chart's accessible title.
func chartTitle(l, metricName, period string) string {
	return msgLiveChart.In(l, metricName, msg.TextOf(l, "monitoring.period."+period))
}
