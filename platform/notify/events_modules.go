package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// The events of other modules' work, read from their tables (notify imports none of them): a
// vendor import run that finished (platform/exchange's vendor_runs) notifies the person who
// started it (the tenant's admins when a command or the system did); a published evaluation
// bulletin (platform/evaluation's evaluation_bulletins) notifies the tenant's leaders, shift
// leads and admins, and its group robot.

// moduleWindow is how far back a scan looks for finished imports and published bulletins.
const moduleWindow = 24 * time.Hour

// importDetail is what an import event keeps of its run.
type importDetail struct {
	Vendor    string `json:"vendor"`
	File      string `json:"file"`
	Entity    string `json:"entity"`
	StartedBy string `json:"started_by"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Kept      int    `json:"kept"`
}

// bulletinDetail is what a bulletin event keeps of its bulletin.
type bulletinDetail struct {
	Period  string `json:"period"`
	Kind    string `json:"kind"`
	Version int    `json:"version"`
}

func (s *Service) scanImports(ctx context.Context, db bun.IDB, now time.Time) error {
	type run struct {
		ID        string    `bun:"id"`
		Vendor    string    `bun:"vendor"`
		File      string    `bun:"file_name"`
		Entity    string    `bun:"entity"`
		StartedBy string    `bun:"started_by"`
		Created   int       `bun:"created"`
		Updated   int       `bun:"updated"`
		Unchanged int       `bun:"unchanged"`
		Kept      int       `bun:"kept"`
		Finished  time.Time `bun:"finished_at"`
	}
	var runs []run
	if err := db.NewSelect().Table("vendor_runs").
		Column("id", "vendor", "file_name", "entity", "started_by", "created", "updated", "unchanged", "kept", "finished_at").
		Where("state = 'done' AND finished_at >= ?", now.Add(-moduleWindow).UTC()).Scan(ctx, &runs); err != nil {
		return errorf("scanning imports", dbx.Translate(err))
	}
	for _, r := range runs {
		d, _ := json.Marshal(importDetail{Vendor: r.Vendor, File: r.File, Entity: r.Entity, StartedBy: r.StartedBy,
			Created: r.Created, Updated: r.Updated, Unchanged: r.Unchanged, Kept: r.Kept})
		e := &event{Key: "import:" + r.ID, Kind: KindImport, Ref: r.ID, Detail: string(d), CreatedMS: r.Finished.UnixMilli()}
		if _, err := db.NewInsert().Model(e).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return errorf("adding an event", dbx.Translate(err))
		}
	}
	return nil
}

func (s *Service) scanBulletins(ctx context.Context, db bun.IDB, now time.Time) error {
	type bulletin struct {
		ID        string    `bun:"id"`
		Period    string    `bun:"period"`
		Kind      string    `bun:"kind"`
		Version   int       `bun:"version"`
		Published time.Time `bun:"published_at"`
	}
	var bs []bulletin
	if err := db.NewSelect().Table("evaluation_bulletins").Column("id", "period", "kind", "version", "published_at").
		Where("published_at >= ?", now.Add(-moduleWindow).UTC()).Scan(ctx, &bs); err != nil {
		return errorf("scanning bulletins", dbx.Translate(err))
	}
	for _, b := range bs {
		d, _ := json.Marshal(bulletinDetail{Period: b.Period, Kind: b.Kind, Version: b.Version})
		e := &event{Key: "bulletin:" + b.ID, Kind: KindBulletin, Ref: b.ID, Detail: string(d), CreatedMS: b.Published.UnixMilli()}
		if _, err := db.NewInsert().Model(e).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return errorf("adding an event", dbx.Translate(err))
		}
	}
	return nil
}

// moduleEvent fills f for an import or bulletin event and returns its recipients.
func (s *Service) moduleEvent(ctx context.Context, db bun.IDB, members map[string]*tenants.Member, e *event, f *Fields) ([]recipient, error) {
	phones, err := staffPhones(ctx, db)
	if err != nil {
		return nil, err
	}
	if e.Kind == KindImport {
		var d importDetail
		_ = json.Unmarshal([]byte(e.Detail), &d)
		f.Description = d.Vendor
		if d.File != "" {
			f.Description += " " + d.File
		}
		f.Summary = msgImportSummary.In("zh-CN", d.Created, d.Updated, d.Unchanged, d.Kept)
		for id, m := range members {
			if d.StartedBy != "" && m.Identity.Email == d.StartedBy {
				return []recipient{{identity: id, email: m.Identity.Email, phone: phones[id]}}, nil
			}
		}
		return holding(members, phones, tenants.TenantAdmin), nil
	}
	var d bulletinDetail
	_ = json.Unmarshal([]byte(e.Detail), &d)
	m := msgBulletinMonth
	if d.Kind == "quarter" {
		m = msgBulletinQuarter
	}
	f.Description = m.In("zh-CN", d.Period, d.Version)
	f.Number = d.Period + " v" + strconv.Itoa(d.Version)
	return holding(members, phones, tenants.Leader, tenants.ShiftLead, tenants.TenantAdmin), nil
}

// staffPhones are the active staff's phones by identity.
func staffPhones(ctx context.Context, db bun.IDB) (map[string]string, error) {
	type staff struct {
		Identity string `bun:"identity_id"`
		Phone    string `bun:"phone"`
	}
	var ss []staff
	if err := db.NewSelect().Table("staff").Column("identity_id", "phone").Where("active AND identity_id IS NOT NULL").Scan(ctx, &ss); err != nil {
		return nil, errorf("staff", dbx.Translate(err))
	}
	phones := make(map[string]string, len(ss))
	for _, x := range ss {
		phones[x.Identity] = x.Phone
	}
	return phones, nil
}

// holding are the members holding one of roles, as recipients.
func holding(members map[string]*tenants.Member, phones map[string]string, roles ...tenants.Role) []recipient {
	var rs []recipient
	for id, m := range members {
		for _, r := range m.Roles {
			if slices.Contains(roles, r) {
				rs = append(rs, recipient{identity: id, email: m.Identity.Email, phone: phones[id]})
				break
			}
		}
	}
	return rs
}

// taskInspectors are the recipients of an inspector's task: the case's inspector (a staff id,
// from its responsibility grid) when that person is a member holding the inspector post, else
// every member holding it.
func taskInspectors(ctx context.Context, db bun.IDB, members map[string]*tenants.Member, staffID sql.NullString) ([]recipient, error) {
	phones, err := staffPhones(ctx, db)
	if err != nil {
		return nil, err
	}
	if staffID.Valid {
		var identity sql.NullString
		err := db.NewSelect().Table("staff").Column("identity_id").Where("id = ? AND active", staffID.String).Scan(ctx, &identity)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, errorf("the case's inspector", dbx.Translate(err))
		}
		if m := members[identity.String]; identity.Valid && m != nil && slices.Contains(m.Roles, tenants.Inspector) {
			return []recipient{{identity: identity.String, email: m.Identity.Email, phone: phones[identity.String]}}, nil
		}
	}
	return holding(members, phones, tenants.Inspector), nil
}
