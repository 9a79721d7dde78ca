package app

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// provJob is a provisioning run the console started in the background, so that its page can
// follow the steps. It keeps the first admin's invitation link (shown once, to the operator who
// started the run) until it is collected or an hour has passed.
type provJob struct {
	by         uuid.UUID
	started    time.Time
	done       chan struct{}
	err        error
	invitation string
}

// provJobs are the console's provisioning runs, by tenant slug. The App owns them: Serve's
// shutdown waits for the runs still going and cuts them at its bound, and Close cuts any left,
// so that no run outlives the database. A run cut part-way is safe: provisioning records each
// step and resumes where it stopped (at the next start, or from the console).
type provJobs struct {
	runs tasks.Group
	// ctx is the runs' context; cancel cuts them.
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	jobs map[string]*provJob
}

func newProvJobs() *provJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &provJobs{ctx: ctx, cancel: cancel, jobs: map[string]*provJob{}}
}

// start runs fn in the background as slug's job unless one is still running; it returns the job.
// The run keeps the values of ctx (the request's), not its end. After stop, the job it returns
// has failed at once.
func (p *provJobs) start(ctx context.Context, slug string, by uuid.UUID, fn func(ctx context.Context) (*tenants.Provisioned, error)) *provJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, j := range p.jobs {
		if time.Since(j.started) > time.Hour {
			delete(p.jobs, s)
		}
	}
	if j := p.jobs[slug]; j != nil {
		select {
		case <-j.done:
		default:
			return j
		}
	}
	j := &provJob{by: by, started: time.Now(), done: make(chan struct{})}
	ok := p.runs.Go(func() {
		defer close(j.done)
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		defer context.AfterFunc(p.ctx, cancel)()
		res, err := fn(rctx)
		j.err = err
		if res != nil && res.InvitationToken != "" {
			j.invitation = res.InvitationToken
		}
	})
	if !ok {
		j.err = errs.E(errs.Unavailable, msgServerShuttingDownStartAgain)
		close(j.done)
		return j
	}
	p.jobs[slug] = j
	return j
}

// stop refuses new runs and waits for those running until ctx ends; then it cancels the rest
// and waits up to cutWait for them to return. It returns the slugs of the runs it cut.
func (p *provJobs) stop(ctx context.Context) (cut []string, err error) {
	defer p.cancel()
	p.runs.Close()
	if p.runs.Wait(ctx) {
		return nil, nil
	}
	cut = p.running()
	p.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	if !p.runs.Wait(ctx) {
		return cut, fmt.Errorf("provisioning of %v still running %s after it was cut", p.running(), cutWait)
	}
	return cut, nil
}

// running returns the slugs of the runs that have not ended, sorted.
func (p *provJobs) running() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var slugs []string
	for s, j := range p.jobs {
		if over, _ := j.finished(); !over {
			slugs = append(slugs, s)
		}
	}
	slices.Sort(slugs)
	return slugs
}

func (p *provJobs) get(slug string) *provJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jobs[slug]
}

var _ console.ProvisioningRuns = (*provJobs)(nil)

// Start is start, for the console.
func (p *provJobs) Start(ctx context.Context, slug string, by uuid.UUID, fn func(ctx context.Context) (*tenants.Provisioned, error)) console.ProvisioningRun {
	return p.start(ctx, slug, by, fn)
}

// Find is slug's job; nil (not a nil *provJob) when there is none.
func (p *provJobs) Find(slug string) console.ProvisioningRun {
	if j := p.get(slug); j != nil {
		return j
	}
	return nil
}

// Done is closed when j ends.
func (j *provJob) Done() <-chan struct{} { return j.done }

// Finished is finished, for the console.
func (j *provJob) Finished() (bool, error) { return j.finished() }

// By is who started j.
func (j *provJob) By() uuid.UUID { return j.by }

// Invitation is the first admin's invitation token, once j has ended well.
func (j *provJob) Invitation() string { return j.invitation }

// finished reports whether j has ended, with its error.
func (j *provJob) finished() (bool, error) {
	select {
	case <-j.done:
		return true, j.err
	default:
		return false, nil
	}
}
