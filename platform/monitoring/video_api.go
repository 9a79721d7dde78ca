package monitoring

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// videoRoutes adds the cameras' API. Members and read-only scopes read and watch; the tenant's
// admins register cameras, set their sources, share them (a prefecture) and map event types.
func (h *handlers) videoRoutes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/monitoring/cameras", h.apiCameras)
	r.Post("/monitoring/cameras", admin, h.apiCreateCamera)
	r.Get("/monitoring/cameras/:code", h.apiCamera)
	r.Put("/monitoring/cameras/:code/source", admin, h.apiSetSource)
	r.Post("/monitoring/cameras/:code/shares", admin, h.apiShare)
	r.Delete("/monitoring/cameras/:code/shares/:county", admin, h.apiUnshare)
	r.Get("/monitoring/shared/:owner/:code", h.apiCamera)
	r.Get("/monitoring/video/event-types", h.apiEventTypes)
	r.Put("/monitoring/video/event-types/:type", admin, h.apiSetEventType)
	r.Get("/monitoring/alarms/:id/snapshot", h.alarmSnapshot)
	h.videoMedia(r)
}

// videoMedia adds the routes of a camera's live stream and snapshot, to the API and to the
// console (the console's player asks with the session cookie).
func (h *handlers) videoMedia(r module.Router) {
	r.Get("/monitoring/cameras/:code/live/:file", h.live)
	r.Get("/monitoring/shared/:owner/:code/live/:file", h.live)
	r.Get("/monitoring/cameras/:code/snapshot", h.cameraSnapshot)
	r.Get("/monitoring/shared/:owner/:code/snapshot", h.cameraSnapshot)
}

// videoPages adds the cameras' console pages.
func (h *handlers) videoPages(r module.Router) {
	r.Get("/monitoring/cameras", h.pageCameras)
	r.Get("/monitoring/cameras/:code", h.pageCamera)
	r.Get("/monitoring/shared/:owner/:code", h.pageCamera)
	h.videoMedia(r)
}

// camera resolves the request's camera: the tenant's own (:code) or one its prefecture shares
// with it (:owner/:code). Anything else is NotFound, whoever asks.
func (h *handlers) camera(c *fiber.Ctx) (*Camera, error) {
	ctx := c.UserContext()
	if owner := c.Params("owner"); owner != "" {
		return h.s.FindSharedCamera(ctx, owner, c.Params("code"))
	}
	return h.s.FindCamera(ctx, c.Params("code"))
}

// viewer names who watches, for the gateway's count of viewers.
func viewer(c *fiber.Ctx) string {
	v := "anonymous"
	if p := module.Principal(c); p != nil && p.Identity != nil {
		v = p.Identity.ID.String()
	}
	if sc := module.Scope(c); sc != nil && sc.Tenant != nil {
		v = sc.Tenant.ID.String() + "/" + v
	}
	return v
}

func (h *handlers) apiCameras(c *fiber.Ctx) error {
	cs, err := h.s.FindCameras(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

// cameraWithToken is a new camera with its device token, shown this once.
type cameraWithToken struct {
	*Camera
	Token string `json:"token"`
}

func (h *handlers) apiCreateCamera(c *fiber.Ctx) error {
	var in CameraInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	cam, tok, err := h.s.CreateCamera(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cameraWithToken{cam, tok})
}

// cameraView is a camera with the number of people watching it now.
type cameraView struct {
	*Camera
	Viewers int `json:"viewers"`
}

func (h *handlers) apiCamera(c *fiber.Ctx) error {
	cam, err := h.camera(c)
	if err != nil {
		return err
	}
	return c.JSON(cameraView{cam, h.s.gw.viewers(streamKey(cam.owner.ID, cam.ID))})
}

func (h *handlers) apiSetSource(c *fiber.Ctx) error {
	var in SourceInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	cam, err := h.s.SetSource(c.UserContext(), c.Params("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(cam)
}

func (h *handlers) apiShare(c *fiber.Ctx) error {
	var in struct {
		Tenant string `json:"tenant"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	if err := h.s.ShareCamera(c.UserContext(), c.Params("code"), in.Tenant); err != nil {
		return err
	}
	cam, err := h.s.FindCamera(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(cam)
}

func (h *handlers) apiUnshare(c *fiber.Ctx) error {
	if err := h.s.UnshareCamera(c.UserContext(), c.Params("code"), c.Params("county")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *handlers) apiEventTypes(c *fiber.Ctx) error {
	ts, err := h.s.FindEventTypes(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (h *handlers) apiSetEventType(c *fiber.Ctx) error {
	var in struct {
		Action        string  `json:"action"`
		Severity      string  `json:"severity"`
		CaseKind      string  `json:"case_kind"`
		ClassCode     string  `json:"class_code"`
		Description   string  `json:"description"`
		MinConfidence float64 `json:"min_confidence"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	et, err := h.s.SetEventType(c.UserContext(), c.Params("type"), EventType{Action: in.Action, Severity: in.Severity, CaseKind: in.CaseKind,
		ClassCode: in.ClassCode, Description: in.Description, MinConfidence: in.MinConfidence})
	if err != nil {
		return err
	}
	return c.JSON(et)
}

func (h *handlers) alarmSnapshot(c *fiber.Ctx) error {
	b, err := h.s.FindSnapshot(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.Send(b)
}

// cameraSnapshot answers a fresh snapshot of the camera (never cached).
func (h *handlers) cameraSnapshot(c *fiber.Ctx) error {
	cam, err := h.camera(c)
	if err != nil {
		return err
	}
	b, err := h.s.Snapshot(c.UserContext(), cam)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

// mediaTypes are the types of an external media server's answers the app passes on.
var mediaTypes = []string{"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "video/mp2t", "video/mp4", "audio/mp4", "application/octet-stream"}

// live serves the camera's HLS playlist and segments: from the gateway's ffmpeg (started by the
// playlist's first request), or proxied from the external media server for a camera with an
// external path when one is configured. Only the files the gateway writes are served.
func (h *handlers) live(c *fiber.Ctx) error {
	cam, err := h.camera(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	file := c.Params("file")
	if cam.row != nil && cam.row.ExternalPath != "" && h.s.gw.cfg.External != "" {
		if !externalFile.MatchString(file) {
			return errs.E(errs.NotFound, msgNoSegment)
		}
		res, err := h.s.gw.external(ctx, cam.row.ExternalPath, file)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		if err != nil {
			return errs.E(errs.Upstream, msgCameraNoAnswer)
		}
		// Only media types pass: whatever else the media server answers is no page of this origin.
		ct := strings.ToLower(strings.TrimSpace(strings.Split(res.Header.Get(fiber.HeaderContentType), ";")[0]))
		if !slices.Contains(mediaTypes, ct) {
			ct = "application/octet-stream"
		}
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Send(b)
	}
	if !hlsFile.MatchString(file) {
		return errs.E(errs.NotFound, msgNoSegment)
	}
	key := streamKey(cam.owner.ID, cam.ID)
	var path string
	if file == "index.m3u8" {
		path, err = h.s.gw.playlist(ctx, key, viewer(c), func(ctx context.Context) (string, error) { return h.s.source(ctx, cam, false) })
		c.Set(fiber.HeaderContentType, "application/vnd.apple.mpegurl")
	} else {
		path, err = h.s.gw.segment(key, viewer(c), file)
		c.Set(fiber.HeaderContentType, "video/mp2t")
	}
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return errs.E(errs.NotFound, msgNoSegment) // deleted by ffmpeg meanwhile
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

// events is POST /api/v1/ingest/:tenant/events: an event of a camera's video analytics, with the
// camera's device token as the bearer token (the same check as readings). An event that raised
// or counted on an alarm is metered on sensor_readings, one per event (idempotent by its id).
func (h *handlers) events(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t, tok, err := h.machine(c)
	if err != nil {
		return err
	}
	var ev Event
	if err := module.DecodeJSON(c, &ev); err != nil {
		return err
	}
	res, err := h.s.IngestEvent(tenants.WithScope(ctx, tenants.SystemScope(t)), tok, ev)
	if errs.Is(err, errs.Unauthorized) {
		h.s.stats.unauthorized.WithLabelValues(t.Slug).Inc()
	}
	if err != nil {
		return err
	}
	if !res.Duplicate && h.k.Usage != nil {
		key := "monitoring.event:" + res.Device + ":" + res.Event
		if err := h.k.Usage.Record(ctx, t.ID, billing.MeterSensorReadings, 1, key); err != nil {
			h.k.Log.Error("monitoring: recording usage", "tenant", t.Slug, "event", res.Event, "err", err)
		}
	}
	return c.JSON(res)
}

// pageCameras is /monitoring/cameras: the tenant's cameras and those its prefecture shares.
func (h *handlers) pageCameras(c *fiber.Ctx) error {
	cs, err := h.s.FindCameras(c.UserContext())
	if err != nil {
		return err
	}
	return h.k.Pages.Render(c, "monitoring/cameras", fiber.Map{"Cameras": cs, "Base": base(c), "VideoOn": h.s.gw.On() || h.s.gw.cfg.External != ""})
}

// pageCamera is a camera's page: the live player, a snapshot button and its recent alarms with
// their snapshots. Watching a shared camera is audited in the owner's log.
func (h *handlers) pageCamera(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cam, err := h.camera(c)
	if err != nil {
		return err
	}
	l := h.k.Pages.Lang(c)
	alarms, snaps, err := h.s.FindCameraAlarms(ctx, cam, 20)
	if err != nil {
		return err
	}
	if cam.ReadOnly() {
		sc := module.Scope(c)
		if err := h.k.Store.AuditNow(ctx, "monitoring.camera.view_shared", &cam.owner.ID, cam.Code, map[string]string{"tenant": sc.Tenant.Slug}); err != nil {
			return err
		}
	}
	names := map[string]string{}
	for _, k := range EventKinds {
		names[k.Code] = msg.TextOf(l, k.Label.ID())
	}
	on := h.s.gw.On() || (cam.row != nil && cam.row.ExternalPath != "" && h.s.gw.cfg.External != "")
	return h.k.Pages.Render(c, "monitoring/camera", fiber.Map{"Camera": cam, "Alarms": alarms, "Snapshots": snaps, "EventNames": names,
		"VideoOn": on, "Path": base(c) + "/monitoring/" + cam.Path(), "Base": base(c)})
}
