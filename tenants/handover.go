package tenants

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
)

// The handover of citizens' personal data. Offboarding destroys the tenant's key, and with it
// every reporter's name and phone the tenant ever stored: the county would lose its own
// citizens' data. So before it destroys the key, offboarding wants a handover on record: an
// export with personal data in clear (AuditExportPersonalData) that holds every record holding
// personal data now (an export taken before a case was reported does not), or an explicit
// waiver with a reason (AuditExportWaived) from a tenant admin or an operator_admin. Both are
// audit entries: the log is append-only, so the record cannot be lost or undone. A tenant that
// holds no personal data needs none.

// Handover is where a tenant stands before offboarding: how many records hold personal data
// under its key, and the latest export in clear and the latest waiver.
type Handover struct {
	// Records counts the rows holding personal data (a case with a reporter's name or phone).
	Records  int64          `json:"records"`
	Exported *HandoverEvent `json:"exported,omitempty"`
	Waived   *HandoverEvent `json:"waived,omitempty"`
}

// HandoverEvent is one export in clear or one waiver, from its audit entry.
type HandoverEvent struct {
	AuditID int64     `json:"audit_id"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Reason  string    `json:"reason"`
	// Records counts the records an export in clear held personal data of.
	Records int64 `json:"records,omitempty"`
}

// Needed reports whether offboarding would refuse: the tenant holds personal data, and it was
// not waived, nor exported in clear with every record that holds it now.
func (h *Handover) Needed() bool {
	return h.Records > 0 && h.Waived == nil && (h.Exported == nil || h.Stale())
}

// Stale reports whether records holding personal data came after the latest export in clear
// (a case reported since), so that it does not hold them all.
func (h *Handover) Stale() bool { return h.Exported != nil && h.Exported.Records < h.Records }

// FindHandover reads t's handover: its records holding personal data (through every
// ExportSealed source, in one read-only snapshot) and the latest export in clear and waiver.
func (s *Store) FindHandover(ctx context.Context, t *Tenant) (*Handover, error) {
	h := &Handover{}
	var err error
	if h.Records, err = s.sealedRecords(ctx, t); err != nil {
		return nil, err
	}
	for _, a := range []struct {
		action string
		dst    **HandoverEvent
	}{{AuditExportPersonalData, &h.Exported}, {AuditExportWaived, &h.Waived}} {
		es, err := s.FindAudit(ctx, AuditFilter{TenantID: &t.ID, Action: a.action, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(es) > 0 {
			e := es[0]
			var d struct {
				Reason  string `json:"reason"`
				Records int64  `json:"records"`
			}
			_ = json.Unmarshal([]byte(e.Detail), &d)
			*a.dst = &HandoverEvent{AuditID: e.ID, At: e.At, By: e.ActorEmail, Reason: d.Reason, Records: d.Records}
		}
	}
	return h, nil
}

// WaiveHandover records that t's personal data need not be exported in clear before
// offboarding destroys its key, for reason (required): audited as AuditExportWaived, by a tenant
// admin of t or an operator_admin (or the command line on the server). It returns the handover
// as it stands then.
func (s *Store) WaiveHandover(ctx context.Context, t *Tenant, reason string) (*Handover, error) {
	reason, err := CheckReason(reason, true)
	if err != nil {
		return nil, err
	}
	if err := mayHandOver(ctx, t); err != nil {
		return nil, err
	}
	if t.Status != StatusActive && t.Status != StatusSuspended {
		return nil, errs.E(errs.Conflict, msgWaiveOnlyLiveTenant, t.NameZH, t.Status)
	}
	if err := s.AuditNow(ctx, AuditExportWaived, &t.ID, t.Slug, map[string]string{"reason": reason}); err != nil {
		return nil, err
	}
	return s.FindHandover(ctx, t)
}

// sealedRecords counts t's rows holding personal data under its key: rows with a sealed column
// that is neither NULL nor empty, over every ExportSealed source's tables that t has.
func (s *Store) sealedRecords(ctx context.Context, t *Tenant) (int64, error) {
	sealed, err := s.sealedByTable()
	if err != nil || len(sealed) == 0 {
		return 0, err
	}
	var total int64
	err = s.tenantTx(ctx, t, Read, func(ctx context.Context, db bun.IDB) error {
		tables, err := s.tenantTables(ctx, db)
		if err != nil {
			return err
		}
		for _, table := range tables {
			cols := sealed[table]
			if len(cols) == 0 {
				continue
			}
			var conds []string
			for _, c := range cols {
				conds = append(conds, dbx.QuoteIdent(c.Column)+" <> ''")
			}
			var n int64
			if err := db.NewRaw("SELECT count(*) FROM "+dbx.QuoteIdent(table)+" WHERE "+strings.Join(conds, " OR ")).Scan(ctx, &n); err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}

// mayHandOver admits to a tenant's personal data in clear, and to waiving it: a tenant admin of
// t, an operator_admin, or no principal at all (the platform itself: the command line on the
// server, whose user holds the data directory and the keys anyway). The routes check the same;
// this keeps a route that forgot from handing the data out.
func mayHandOver(ctx context.Context, t *Tenant) error {
	p := PrincipalFrom(ctx)
	if p == nil {
		return nil
	}
	if p.IsOperator(OperatorAdmin) || slices.Contains(p.RolesIn(t.ID), TenantAdmin) {
		return nil
	}
	return errs.E(errs.Forbidden, msgOnlyAdminsPersonalData)
}

// CheckReason checks the reason for an export or a waiver and returns it trimmed: required when
// required, at most MaxReason characters, text (line breaks and tabs allowed, no NUL or other
// control character, which bun would write into the SQL text).
func CheckReason(reason string, required bool) (string, error) {
	r := strings.TrimSpace(reason)
	switch {
	case r == "" && required:
		return "", errs.Field("reason", msgReasonRequiredPersonalData)
	case !utf8.ValidString(r):
		return "", errs.Field("reason", msgReasonNotText)
	case utf8.RuneCountInString(r) > MaxReason:
		return "", errs.Field("reason", msgReasonTooLong, MaxReason)
	}
	for _, c := range r {
		if unicode.IsControl(c) && c != '\n' && c != '\t' && c != '\r' {
			return "", errs.Field("reason", msgReasonNotText)
		}
	}
	return r, nil
}
