package secrets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
)

// auditLog records audit entries in memory; fail makes the next append fail.
type auditLog struct {
	entries []string
	fail    bool
}

func (l *auditLog) AuditNow(_ context.Context, action string, tenant *uuid.UUID, target string, detail any) error {
	if l.fail {
		return errors.New("audit log down")
	}
	l.entries = append(l.entries, action+" "+tenant.String()+" "+target)
	if detail != nil {
		l.entries = append(l.entries, "with detail")
	}
	return nil
}

// TestAuditedCredentials: credential writes through Audited are audited by name (never value)
// once they succeeded; refused writes and everything else are not; a failing audit is an error.
func TestAuditedCredentials(t *testing.T) {
	ctx := context.Background()
	k := mustKeyring(t, t.TempDir())
	tn := newTenant(t, k)
	log := &auditLog{}
	s := secrets.Audited(k, log)
	if _, err := s.PutCredential(ctx, tn, "BAD NAME", "v", "admin"); !errs.Is(err, errs.Invalid) {
		t.Fatalf("bad name: %v", err)
	}
	if err := s.DeleteCredential(ctx, tn, "sms_gateway"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("delete of nothing: %v", err)
	}
	c, err := s.PutCredential(ctx, tn, "sms_gateway", "sms-secret-1234", "admin")
	if err != nil || c.Name != "sms_gateway" || c.Last4 != "1234" {
		t.Fatalf("put: %+v %v", c, err)
	}
	if _, err := s.ListCredentials(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCredential(ctx, tn, "sms_gateway"); err != nil {
		t.Fatal(err)
	}
	want := []string{"credential.put " + tn.String() + " sms_gateway", "credential.delete " + tn.String() + " sms_gateway"}
	if len(log.entries) != 2 || log.entries[0] != want[0] || log.entries[1] != want[1] {
		t.Fatalf("audit: %q, want %q", log.entries, want)
	}
	log.fail = true
	if _, err := s.PutCredential(ctx, tn, "sms_gateway", "sms-secret-1234", "admin"); err == nil {
		t.Fatal("a credential write whose audit failed reported success")
	}
}
