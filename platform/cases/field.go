package cases

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// 城管通, the inspectors' phone workspace, files reports and actions from a queue it keeps while
// it has no signal, and sends each again until it gets an answer. Each carries a key the phone
// made (a UUID, the Idempotency-Key header): the key is written in the transaction that writes
// the case or the action, under the table's primary key, so however often a request is sent —
// twice at once included — one case is made and every answer names it.

// ReportKey is a report's idempotency key as stored (case_report_keys, tenant migration 0033).
type ReportKey struct {
	bun.BaseModel `bun:"table:case_report_keys"`
	Key           string    `bun:"key,pk"`
	CaseID        string    `bun:"case_id"`
	ReportedBy    string    `bun:"reported_by"`
	CreatedAt     time.Time `bun:"created_at"`
}

// ActionKey is an action's idempotency key as stored (case_action_keys).
type ActionKey struct {
	bun.BaseModel `bun:"table:case_action_keys"`
	Key           string    `bun:"key,pk"`
	CaseID        string    `bun:"case_id"`
	Action        Action    `bun:"action"`
	ActorID       string    `bun:"actor_id"`
	Version       int       `bun:"version"`
	CreatedAt     time.Time `bun:"created_at"`
}

// CheckKey validates an idempotency key: a UUID in its canonical text form, returned lower-case.
// field names the key in problems ("Idempotency-Key").
func CheckKey(key, field string) (string, error) {
	key = strings.ToLower(strings.TrimSpace(key))
	if key == "" {
		return "", errs.Field(field, msgKeyMissing, field)
	}
	u, err := uuid.Parse(key)
	if err != nil || len(key) != 36 || u.String() != key {
		return "", errs.Field(field, msgKeyNotUUID, field, textutil.Truncate(key, 40))
	}
	return key, nil
}

// insertReportKeys writes the keys of the reports that carry one, in the transaction that
// inserts the cases: a key already taken fails it with errs.Conflict, and nothing of it stays.
func insertReportKeys(ctx context.Context, db bun.IDB, rs []*report) error {
	var keys []*ReportKey
	for _, r := range rs {
		if r.key != "" {
			keys = append(keys, &ReportKey{Key: r.key, CaseID: r.c.ID, ReportedBy: r.a.id, CreatedAt: r.c.CreatedAt})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	_, err := db.NewInsert().Model(&keys).Exec(ctx)
	return dbx.Translate(err)
}

// findReportKey returns the case id key names, "" when no case was made with it. A key used by
// someone else is refused as a conflict (it names no case of the caller's).
func (s *Service) findReportKey(ctx context.Context, a actor, key string) (string, error) {
	k := &ReportKey{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(k).Where("key = ?", key).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", dbx.Translate(err)
	}
	if k.ReportedBy != a.id {
		return "", errs.Field("Idempotency-Key", msgKeyUsedByOther)
	}
	return k.CaseID, nil
}

// ReportOnce files a report under the client's idempotency key: the first call makes the case
// (Report) and writes the key with it; every later call with the key — a retry, or one racing the
// first — returns that case with created false. photos are stored with the case (AddPhoto,
// content-addressed), each at most once however often the request comes: on a retry, a photo
// whose bytes the case already holds is not added again, so a report whose photos were cut off
// by a lost connection is completed by its retry.
func (s *Service) ReportOnce(ctx context.Context, key string, in ReportInput, photos [][]byte) (*Case, bool, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, false, err
	}
	if key, err = CheckKey(key, "Idempotency-Key"); err != nil {
		return nil, false, err
	}
	if len(photos) > MaxFieldPhotos {
		return nil, false, errs.Field("photo", msgTooManyPhotos, MaxFieldPhotos)
	}
	// Every photo is checked before anything is written: a bad one refuses the whole report.
	for _, p := range photos {
		if int64(len(p)) > s.maxPhoto {
			return nil, false, errs.E(errs.TooLarge, msgPhotoMayMostMib, s.maxPhoto>>20)
		}
		if sniff(p) == "" {
			return nil, false, errs.E(errs.Unsupported, msgPhotosJpegPngWebpImages)
		}
	}
	id, err := s.findReportKey(ctx, a, key)
	if err != nil {
		return nil, false, err
	}
	created := false
	if id == "" {
		c, err := s.report(ctx, in, key)
		switch {
		case err == nil:
			id, created = c.ID, true
		case errs.Is(err, errs.Conflict):
			// Another request with the key committed first: answer with its case.
			if id, _ = s.findReportKey(ctx, a, key); id == "" {
				return nil, false, err
			}
		default:
			return nil, false, err
		}
	}
	if err := s.bindPhotos(ctx, key, id, photos); err != nil {
		return nil, false, err
	}
	c, err := s.FindCaseByID(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return c, created, nil
}

// MaxFieldPhotos bounds the photos of one report from the phone.
const MaxFieldPhotos = 6

// bindPhotos adds to case id those of photos that the report of key has not brought yet (by
// SHA-256): each photo's row is written with its binding to the key (case_report_photos), whose
// primary key lets one of two racing requests bind it.
func (s *Service) bindPhotos(ctx context.Context, key, id string, photos [][]byte) error {
	if len(photos) == 0 {
		return nil
	}
	var have []string
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Table("case_report_photos").Column("sha256").Where("key = ?", key).Scan(ctx, &have)
	}); err != nil {
		return dbx.Translate(err)
	}
	seen := map[string]bool{}
	for _, h := range have {
		seen[h] = true
	}
	for _, p := range photos {
		sum := sha256Hex(p)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		_, err := s.addPhoto(ctx, id, p, func(ctx context.Context, db bun.IDB, ph *Photo) error {
			_, err := db.NewInsert().Model(&map[string]any{"key": key, "sha256": sum, "photo_id": ph.ID}).
				TableExpr("case_report_photos").Exec(ctx)
			return dbx.Translate(err)
		})
		if err != nil {
			// A conflict on the binding's key means a racing retry bound the photo; any other
			// refusal (a case closed since) stands.
			var bound int64
			if !errs.Is(err, errs.Conflict) || s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
				var e error
				bound, e = db.NewSelect().Table("case_report_photos").Where("key = ? AND sha256 = ?", key, sum).Count(ctx)
				return e
			}) != nil || bound == 0 {
				return err
			}
		}
	}
	return nil
}

// ActOnce takes action on case id under the client's idempotency key (the phone's 核实 and
// 核查 from its queue): the first call acts (Act) and writes the key with the action's
// transaction; a later call with the key returns the case as it is now, acted on once. A retry
// racing the first either finds the key or fails the version check, and then finds the key.
func (s *Service) ActOnce(ctx context.Context, key, id string, action Action, in ActionInput) (*Case, bool, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, false, err
	}
	if key, err = CheckKey(key, "Idempotency-Key"); err != nil {
		return nil, false, err
	}
	find := func() (bool, error) {
		k := &ActionKey{}
		err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().Model(k).Where("key = ?", key).Scan(ctx)
		})
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, dbx.Translate(err)
		}
		if k.ActorID != a.id || k.CaseID != id || k.Action != action {
			return false, errs.Field("Idempotency-Key", msgKeyUsedByOther)
		}
		return true, nil
	}
	done, err := find()
	if err != nil {
		return nil, false, err
	}
	if done {
		c, err := s.FindCaseByID(ctx, id)
		return c, false, err
	}
	c, err := s.act(ctx, id, action, in, func(ctx context.Context, db bun.IDB, c *Case) error {
		_, err := db.NewInsert().Model(&ActionKey{Key: key, CaseID: c.ID, Action: action, ActorID: a.id, Version: c.Version, CreatedAt: s.clock()}).Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		if errs.Is(err, errs.Conflict) {
			if done, ferr := find(); ferr == nil && done {
				c, err := s.FindCaseByID(ctx, id)
				return c, false, err
			}
		}
		return nil, false, err
	}
	return c, true, nil
}
