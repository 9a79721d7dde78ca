package exchange

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// ImportJob is an import the console started in the background: its file is checked and written
// (Importer.Import) detached from the request that started it, with the scope of the admin who
// did. While it checks, only this process knows how far it got (Phase, Records); once it writes,
// its run in vendor_runs shows the records done of the total to every replica. A job that ends
// is kept for jobKeep, so that its page can say how it ended.
type ImportJob struct {
	ID        string
	Vendor    string
	File      string
	StartedBy string
	StartedAt time.Time

	tenant uuid.UUID
	mu     sync.Mutex
	status ImportJobStatus
}

// ImportJobStatus is how far an ImportJob got.
type ImportJobStatus struct {
	// Phase is "check" while every record is mapped and checked, "write" while chunks are
	// committed, "done" or "failed" at the end.
	Phase   string
	Records int // records checked or written so far
	Total   int // records in the file, once the check has read it all
	RunID   string
	Report  *ImportReport // at the end, when the import reported (a refused file too)
	Err     error         // when it failed
	EndedAt time.Time
}

// Status is the job's state now.
func (j *ImportJob) Status() ImportJobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status
}

// Running reports whether the job has not ended.
func (j *ImportJob) Running() bool {
	s := j.Status()
	return s.Phase == "check" || s.Phase == "write"
}

// jobKeep is how long an ended job stays listed.
const jobKeep = time.Hour

// importJobs are an Importer's background imports. The zero value is ready: the runs' context
// is made on first use, and Stop cuts it.
type importJobs struct {
	runs   tasks.Group
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	list []*ImportJob
}

func (js *importJobs) base() context.Context {
	js.once.Do(func() { js.ctx, js.cancel = context.WithCancel(context.Background()) })
	return js.ctx
}

// Start imports file as Import does, in the background: it returns the job at once. The job
// keeps the values of ctx (the tenant scope and who asked), not its end, so the request that
// started it may return. One job per tenant and vendor runs at a time (a conflict otherwise).
// Tenant admins only, as Import.
func (im *Importer) Start(ctx context.Context, file VendorFile, opts ImportOptions) (*ImportJob, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgVendorAdminOnly)
	}
	if !vendorRe.MatchString(opts.Vendor) {
		return nil, errs.E(errs.NotFound, msgVendorNoMapping, opts.Vendor)
	}
	js := &im.jobs
	base := js.base()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	j := &ImportJob{ID: id.String(), Vendor: opts.Vendor, File: file.Name, StartedBy: actorOf(ctx), StartedAt: im.now().UTC(), tenant: sc.Tenant.ID,
		status: ImportJobStatus{Phase: "check"}}
	js.mu.Lock()
	defer js.mu.Unlock()
	now := im.now()
	js.list = slices.DeleteFunc(js.list, func(o *ImportJob) bool {
		s := o.Status()
		return !s.EndedAt.IsZero() && now.Sub(s.EndedAt) > jobKeep
	})
	for _, o := range js.list {
		if o.tenant == j.tenant && o.Vendor == j.Vendor && o.Running() {
			return nil, errs.E(errs.Conflict, msgVendorJobRunning, opts.Vendor)
		}
	}
	progress := opts.Progress
	opts.Progress = func(p ImportProgress) {
		j.mu.Lock()
		j.status.Phase, j.status.Records = p.Phase, p.Records
		j.mu.Unlock()
		if progress != nil {
			progress(p)
		}
	}
	ok := js.runs.Go(func() {
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		defer context.AfterFunc(base, cancel)()
		rep, err := im.Import(rctx, file, opts)
		j.mu.Lock()
		defer j.mu.Unlock()
		j.status.Report, j.status.Err, j.status.EndedAt = rep, err, im.now()
		switch {
		case err != nil:
			j.status.Phase = "failed"
			im.log.Error("background import failed", "tenant", sc.Tenant.Slug, "vendor", j.Vendor, "file", j.File, "err", err)
		case !rep.OK():
			j.status.Phase = "failed"
		default:
			j.status.Phase = "done"
		}
		if rep != nil {
			j.status.RunID, j.status.Total = rep.RunID, rep.Records
			if rep.Applied {
				j.status.Records = rep.Records
			}
		}
	})
	if !ok {
		return nil, errs.E(errs.Unavailable, msgVendorStopping)
	}
	js.list = append(js.list, j)
	return j, nil
}

// Jobs are the background imports of the tenant of ctx this process started within jobKeep,
// newest first.
func (im *Importer) Jobs(ctx context.Context) ([]*ImportJob, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	js := &im.jobs
	js.mu.Lock()
	defer js.mu.Unlock()
	var out []*ImportJob
	for i := len(js.list) - 1; i >= 0; i-- {
		if j := js.list[i]; j.tenant == sc.Tenant.ID {
			out = append(out, j)
		}
	}
	return out, nil
}

// Stop refuses new background imports and waits for those running until ctx ends; then it cuts
// them and reports whether they returned. A run cut part-way is safe: its committed chunks stay,
// and importing the same file again continues where it stopped.
func (im *Importer) Stop(ctx context.Context) bool {
	js := &im.jobs
	js.base()
	js.runs.Close()
	if js.runs.Wait(ctx) {
		js.cancel()
		return true
	}
	js.cancel()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return js.runs.Wait(wctx)
}
