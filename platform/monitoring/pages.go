package monitoring

import (
	"net/url"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

// The console pages' texts (templates/*.html).
var _ = msg.Define(
	msg.Text{ID: "monitoring.nav", ZH: "运行监测", EN: "Monitoring"},
	msg.Text{ID: "monitoring.page.intro", ZH: "本单位的监测设备、在线状态与最新读数。设备通过 HTTP 批量接口以设备令牌上报读数。", EN: "This tenant's monitoring devices, their status and latest readings. Devices post readings through the HTTP batch ingest with their device tokens."},
	msg.Text{ID: "monitoring.page.devices", ZH: "设备", EN: "Devices"},
	msg.Text{ID: "monitoring.page.no_devices", ZH: "尚无设备。管理员可通过 API 新增或批量导入设备。", EN: "No devices yet. An admin adds them, or imports them in bulk, through the API."},
	msg.Text{ID: "monitoring.page.code", ZH: "编码", EN: "Code"},
	msg.Text{ID: "monitoring.page.name", ZH: "名称", EN: "Name"},
	msg.Text{ID: "monitoring.page.type", ZH: "类型", EN: "Type"},
	msg.Text{ID: "monitoring.page.grid", ZH: "网格", EN: "Grid"},
	msg.Text{ID: "monitoring.page.component", ZH: "关联部件", EN: "Component"},
	msg.Text{ID: "monitoring.page.point", ZH: "经纬度", EN: "Longitude, latitude"},
	msg.Text{ID: "monitoring.page.status", ZH: "状态", EN: "Status"},
	msg.Text{ID: "monitoring.page.last_seen", ZH: "最后上报", EN: "Last seen"},
	msg.Text{ID: "monitoring.page.all", ZH: "全部", EN: "All"},
	msg.Text{ID: "monitoring.page.filter", ZH: "筛选", EN: "Filter"},
	msg.Text{ID: "monitoring.status.online", ZH: "在线", EN: "Online"},
	msg.Text{ID: "monitoring.status.offline", ZH: "离线", EN: "Offline"},
	msg.Text{ID: "monitoring.page.latest", ZH: "最新读数", EN: "Latest readings"},
	msg.Text{ID: "monitoring.page.no_latest", ZH: "该设备尚无读数。", EN: "This device has sent no reading yet."},
	msg.Text{ID: "monitoring.page.readings", ZH: "读数", EN: "Readings"},
	msg.Text{ID: "monitoring.page.metric", ZH: "指标", EN: "Metric"},
	msg.Text{ID: "monitoring.page.period", ZH: "时段", EN: "Period"},
	msg.Text{ID: "monitoring.page.resolution", ZH: "粒度", EN: "Resolution"},
	msg.Text{ID: "monitoring.page.at", ZH: "时间", EN: "Time"},
	msg.Text{ID: "monitoring.page.value", ZH: "数值", EN: "Value"},
	msg.Text{ID: "monitoring.page.count", ZH: "条数", EN: "Count"},
	msg.Text{ID: "monitoring.page.min", ZH: "最小", EN: "Min"},
	msg.Text{ID: "monitoring.page.max", ZH: "最大", EN: "Max"},
	msg.Text{ID: "monitoring.page.avg", ZH: "平均", EN: "Average"},
	msg.Text{ID: "monitoring.page.last", ZH: "末值", EN: "Last"},
	msg.Text{ID: "monitoring.page.no_readings", ZH: "该时段没有读数。", EN: "No readings in this period."},
	msg.Text{ID: "monitoring.page.back", ZH: "返回设备列表", EN: "Back to the devices"},
	msg.Text{ID: "monitoring.page.show", ZH: "显示", EN: "Show"},
	msg.Text{ID: "monitoring.period.1h", ZH: "最近 1 小时", EN: "Last hour"},
	msg.Text{ID: "monitoring.period.24h", ZH: "最近 24 小时", EN: "Last 24 hours"},
	msg.Text{ID: "monitoring.period.7d", ZH: "最近 7 天", EN: "Last 7 days"},
	msg.Text{ID: "monitoring.period.90d", ZH: "最近 90 天", EN: "Last 90 days"},
	msg.Text{ID: "monitoring.period.2y", ZH: "最近 2 年", EN: "Last 2 years"},
	msg.Text{ID: "monitoring.resolution.raw", ZH: "原始", EN: "Raw"},
	msg.Text{ID: "monitoring.resolution.minute", ZH: "分钟", EN: "Minute"},
	msg.Text{ID: "monitoring.resolution.hour", ZH: "小时", EN: "Hour"},
	msg.Text{ID: "monitoring.resolution.day", ZH: "天", EN: "Day"},
)

// periods are the readings table's periods, by query value.
var periods = []struct {
	Key string
	D   time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"90d", 90 * 24 * time.Hour}, {"2y", 730 * 24 * time.Hour}}

func base(c *fiber.Ctx) string { return "/t/" + module.Scope(c).Tenant.Slug }

// pageDevices is /monitoring: the devices with their status and last seen, filtered by type
// and status.
func (h *handlers) pageDevices(c *fiber.Ctx) error {
	l := h.k.Pages.Lang(c)
	ds, err := h.s.FindDevices(c.UserContext(), DeviceFilter{Type: c.Query("type"), Status: c.Query("status"), GridCode: c.Query("grid"), Limit: 5000})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for i := range Types {
		names[Types[i].Code] = Types[i].Name(l)
	}
	names[CameraType.Code] = CameraType.Name(l)
	q, err := h.quotaOf(c.UserContext())
	if err != nil {
		return err
	}
	notice, over := quotaNotice(q, l)
	return h.k.Pages.Render(c, "monitoring/devices", fiber.Map{"Devices": ds, "TypeNames": names, "Types": Types,
		"Type": c.Query("type"), "Status": c.Query("status"), "Base": base(c), "QuotaNotice": notice, "QuotaOver": over})
}

// pageDevice is /monitoring/devices/:code: the device, its latest readings and a table of a
// metric's readings over a period (?metric, ?period, ?resolution).
func (h *handlers) pageDevice(c *fiber.Ctx) error {
	ctx := c.UserContext()
	l := h.k.Pages.Lang(c)
	d, err := h.s.FindDeviceByCode(ctx, c.Params("code"))
	if err != nil {
		return err
	}
	latest, err := h.s.FindLatest(ctx, d)
	if err != nil {
		return err
	}
	if d.Type == CameraType.Code {
		return c.Redirect(base(c)+"/monitoring/cameras/"+url.PathEscape(d.Code), fiber.StatusSeeOther)
	}
	typ, _ := FindType(d.Type)
	metric := c.Query("metric", typ.Metrics[0].Code)
	period := c.Query("period", "24h")
	dur := time.Duration(0)
	for _, p := range periods {
		if p.Key == period {
			dur = p.D
		}
	}
	if dur == 0 {
		period, dur = "24h", 24*time.Hour
	}
	now := h.s.now()
	ser, err := h.s.FindSeries(ctx, d, metric, now.Add(-dur), now.Add(MaxSkew), c.Query("resolution"))
	if err != nil {
		return err
	}
	metricNames := map[string]string{}
	for i := range typ.Metrics {
		metricNames[typ.Metrics[i].Code] = typ.Metrics[i].Name(l)
	}
	return h.k.Pages.Render(c, "monitoring/device", fiber.Map{"Device": d, "TypeName": typ.Name(l), "Metrics": typ.Metrics, "MetricNames": metricNames,
		"Latest": latest, "Series": ser, "Metric": metric, "Period": period, "Periods": periods, "Resolutions": Resolutions, "Base": base(c), "Zone": clock.China,
		"Chart": seriesChart(l, metricNames[ser.Metric], ser), "ChartTitle": chartTitle(l, metricNames[ser.Metric], period)})
}
