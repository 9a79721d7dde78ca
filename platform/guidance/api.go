package guidance

import (
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

type handlers struct {
	s *Service
	k module.Kit
}

// routes adds the JSON API. The service decides who may do what (a prefecture's acting members
// publish and judge; a county's acting members acknowledge and answer; every member reads).
func (h *handlers) routes(r module.Router) {
	// The prefecture's side.
	r.Get("/guidance/notices", h.apiNotices)
	r.Post("/guidance/notices", h.apiPublish)
	r.Get("/guidance/notices/:id", h.apiNoticeStatus)
	r.Get("/guidance/notices/:id/files/:file", h.apiNoticeFile)
	r.Get("/guidance/tasks", h.apiTasks)
	r.Post("/guidance/tasks", h.apiOpenTask)
	r.Get("/guidance/tasks/:id", h.apiTaskStatus)
	r.Post("/guidance/tasks/:id/counties/:county/review", h.apiReview)
	r.Get("/guidance/tasks/:id/counties/:county/responses/:response/photos/:file", h.apiCountyPhoto)
	r.Get("/guidance/templates", h.apiTemplates)
	r.Post("/guidance/templates", h.apiCreateTemplate)
	r.Get("/guidance/templates/:id", h.apiReportStatus)
	r.Get("/guidance/spotchecks", h.apiSpotChecks)
	r.Post("/guidance/spotchecks", h.apiDrawSpotCheck)
	r.Get("/guidance/spotchecks/:id", h.apiSpotCheck)
	r.Get("/guidance/upward", h.apiUpward)
	r.Post("/guidance/upward", h.apiReportUp)
	// The county's side.
	r.Get("/guidance/inbox", h.apiInbox)
	r.Get("/guidance/inbox/:id", h.apiReadNotice)
	r.Post("/guidance/inbox/:id/ack", h.apiAck)
	r.Get("/guidance/inbox/:id/files/:file", h.apiInboxFile)
	r.Get("/guidance/assigned", h.apiMyTasks)
	r.Get("/guidance/assigned/:id", h.apiMyTask)
	r.Post("/guidance/assigned/:id/responses", h.apiRespond)
	r.Get("/guidance/assigned/:id/responses/:response/photos/:file", h.apiOwnPhoto)
	r.Get("/guidance/reports", h.apiMyReports)
	r.Get("/guidance/reports/:id", h.apiReportForm)
	r.Post("/guidance/reports/:id", h.apiSubmitReport)
	r.Get("/guidance/rechecks", h.apiMySpotChecks)
	r.Post("/guidance/rechecks/:id", h.apiRecheck)
}

// param is a path parameter copied out of fiber's buffer (unescaped), refused with NUL bytes.
func param(c *fiber.Ctx, name string) string {
	v, err := url.PathUnescape(c.Params(name))
	if err != nil || strings.ContainsRune(v, 0) || len(v) > 200 {
		return ""
	}
	return strings.Clone(v)
}

func query(c *fiber.Ctx, name string) string {
	v := c.Query(name)
	if strings.ContainsRune(v, 0) || len(v) > 200 {
		return "\x00"
	}
	return strings.Clone(v)
}

// isMultipart reports whether the request is a multipart form (with files).
func isMultipart(c *fiber.Ctx) bool {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	return mt == "multipart/form-data"
}

// formFiles reads the files of the multipart form's field name.
func formFiles(c *fiber.Ctx, name string) ([]Upload, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, errs.Field(name, msgBadFile, maxFiles)
	}
	var out []Upload
	if len(form.File[name]) > maxFiles {
		return nil, errs.Field(name, msgBadFile, maxFiles)
	}
	for _, fh := range form.File[name] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // an empty file input
		}
		if fh.Size > maxFileSize {
			return nil, errs.Field(name, msgBadFile, maxFiles)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, errs.Field(name, msgBadFile, maxFiles)
		}
		data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
		f.Close()
		if err != nil {
			return nil, errs.Field(name, msgBadFile, maxFiles)
		}
		out = append(out, Upload{Name: strings.Clone(fh.Filename), Data: data})
	}
	return out, nil
}

// formList reads a form field as a list: its repeated values, or one value split into lines.
func formList(c *fiber.Ctx, name string) []string {
	var out []string
	if form, err := c.MultipartForm(); err == nil {
		for _, v := range form.Value[name] {
			out = append(out, splitLines(v)...)
		}
		return out
	}
	for _, v := range c.Context().PostArgs().PeekMulti(name) {
		out = append(out, splitLines(string(v))...)
	}
	return out
}

func splitLines(v string) []string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.Clone(l))
		}
	}
	return out
}

// decodeMultipartJSON reads the form field "data" (JSON) into v: the JSON API's way of sending
// a body with files.
func decodeMultipartJSON(c *fiber.Ctx, v any) error {
	form, err := c.MultipartForm()
	if err != nil || len(form.Value["data"]) != 1 {
		return errs.Field("data", msgBadText, "data", 100000)
	}
	return module.UnmarshalJSON([]byte(form.Value["data"][0]), v)
}

func sendFile(c *fiber.Ctx, f *File, r io.ReadCloser) error {
	defer r.Close()
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	c.Set("X-Content-Type-Options", "nosniff")
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return c.Send(data)
}

func (h *handlers) apiNotices(c *fiber.Ctx) error {
	ns, err := h.s.Notices(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ns)
}

func (h *handlers) apiPublish(c *fiber.Ctx) error {
	var in NoticeInput
	var files []Upload
	var err error
	if isMultipart(c) {
		if err = decodeMultipartJSON(c, &in); err == nil {
			files, err = formFiles(c, "files")
		}
	} else {
		err = module.DecodeJSON(c, &in)
	}
	if err != nil {
		return err
	}
	n, err := h.s.PublishNotice(c.UserContext(), in, files)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(n)
}

func (h *handlers) apiNoticeStatus(c *fiber.Ctx) error {
	st, err := h.s.NoticeStatus(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h *handlers) apiNoticeFile(c *fiber.Ctx) error {
	f, r, err := h.s.NoticeFile(c.UserContext(), param(c, "id"), param(c, "file"))
	if err != nil {
		return err
	}
	return sendFile(c, f, r)
}

func (h *handlers) apiTasks(c *fiber.Ctx) error {
	ts, err := h.s.Tasks(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (h *handlers) apiOpenTask(c *fiber.Ctx) error {
	var in TaskInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := h.s.OpenTask(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (h *handlers) apiTaskStatus(c *fiber.Ctx) error {
	st, err := h.s.TaskStatus(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h *handlers) apiReview(c *fiber.Ctx) error {
	var in ReviewInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := h.s.ReviewTask(c.UserContext(), param(c, "id"), param(c, "county"), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (h *handlers) apiCountyPhoto(c *fiber.Ctx) error {
	county := param(c, "county")
	if county == "" {
		return errs.E(errs.NotFound, msgNoCounty, "")
	}
	f, r, err := h.s.ResponseFile(c.UserContext(), param(c, "id"), county, param(c, "response"), param(c, "file"))
	if err != nil {
		return err
	}
	return sendFile(c, f, r)
}

func (h *handlers) apiTemplates(c *fiber.Ctx) error {
	ts, err := h.s.Templates(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (h *handlers) apiCreateTemplate(c *fiber.Ctx) error {
	var in TemplateInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := h.s.CreateTemplate(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (h *handlers) apiReportStatus(c *fiber.Ctx) error {
	st, err := h.s.ReportStatus(c.UserContext(), param(c, "id"), query(c, "period"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h *handlers) apiSpotChecks(c *fiber.Ctx) error {
	ss, err := h.s.SpotChecks(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ss)
}

func (h *handlers) apiDrawSpotCheck(c *fiber.Ctx) error {
	var in SpotInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	sp, err := h.s.DrawSpotCheck(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sp)
}

func (h *handlers) apiSpotCheck(c *fiber.Ctx) error {
	sp, err := h.s.SpotCheckStatus(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(sp)
}

func (h *handlers) apiInbox(c *fiber.Ctx) error {
	ns, err := h.s.Inbox(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ns)
}

func (h *handlers) apiReadNotice(c *fiber.Ctx) error {
	n, err := h.s.ReadNotice(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (h *handlers) apiAck(c *fiber.Ctx) error {
	var in struct {
		Note string `json:"note"`
	}
	if len(c.Body()) > 0 {
		if err := module.DecodeJSON(c, &in); err != nil {
			return err
		}
	}
	n, err := h.s.Acknowledge(c.UserContext(), param(c, "id"), in.Note)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (h *handlers) apiInboxFile(c *fiber.Ctx) error {
	f, r, err := h.s.InboxFile(c.UserContext(), param(c, "id"), param(c, "file"))
	if err != nil {
		return err
	}
	return sendFile(c, f, r)
}

func (h *handlers) apiMyTasks(c *fiber.Ctx) error {
	ts, err := h.s.MyTasks(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (h *handlers) apiMyTask(c *fiber.Ctx) error {
	t, err := h.s.MyTask(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (h *handlers) apiRespond(c *fiber.Ctx) error {
	var in ResponseInput
	var photos []Upload
	var err error
	if isMultipart(c) {
		if err = decodeMultipartJSON(c, &in); err == nil {
			photos, err = formFiles(c, "photos")
		}
	} else {
		err = module.DecodeJSON(c, &in)
	}
	if err != nil {
		return err
	}
	t, err := h.s.Respond(c.UserContext(), param(c, "id"), in, photos)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (h *handlers) apiOwnPhoto(c *fiber.Ctx) error {
	f, r, err := h.s.ResponseFile(c.UserContext(), param(c, "id"), "", param(c, "response"), param(c, "file"))
	if err != nil {
		return err
	}
	return sendFile(c, f, r)
}

func (h *handlers) apiMyReports(c *fiber.Ctx) error {
	rs, err := h.s.MyReports(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (h *handlers) apiReportForm(c *fiber.Ctx) error {
	f, err := h.s.ReportForm(c.UserContext(), param(c, "id"), query(c, "period"))
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h *handlers) apiSubmitReport(c *fiber.Ctx) error {
	var in struct {
		Period string            `json:"period"`
		Values map[string]string `json:"values"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	f, err := h.s.SubmitReport(c.UserContext(), param(c, "id"), in.Period, in.Values)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(f)
}

func (h *handlers) apiMySpotChecks(c *fiber.Ctx) error {
	ss, err := h.s.MySpotChecks(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ss)
}

func (h *handlers) apiRecheck(c *fiber.Ctx) error {
	var in RecheckInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	sp, err := h.s.Recheck(c.UserContext(), param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(sp)
}

// atoiOr is v as an int, or def when v is empty; -1 for a value that is not a number.
func atoiOr(v string, def int) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func (h *handlers) apiUpward(c *fiber.Ctx) error {
	us, err := h.s.UpwardReports(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(us)
}

func (h *handlers) apiReportUp(c *fiber.Ctx) error {
	var in UpwardInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	u, err := h.s.ReportUp(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}
