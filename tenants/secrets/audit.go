package secrets

import (
	"context"

	"github.com/google/uuid"
)

// Auditor appends an entry to the audit log in a transaction of its own (tenants.Store
// satisfies it).
type Auditor interface {
	AuditNow(ctx context.Context, action string, tenant *uuid.UUID, target string, detail any) error
}

// Audited returns s with its credential writes audited on the tenant, whichever backend s is:
// PutCredential as credential.put and DeleteCredential as credential.delete, naming the
// credential and never its value, once the write has succeeded (a Vault or keyring write cannot
// share a transaction with the audit log). Everything else passes through. The composition root
// wraps the store once, so the API, the console and the CLI all get the audit.
func Audited(s Store, log Auditor) Store { return audited{Store: s, log: log} }

type audited struct {
	Store
	log Auditor
}

func (a audited) PutCredential(ctx context.Context, tenant uuid.UUID, name, value, setBy string) (Credential, error) {
	c, err := a.Store.PutCredential(ctx, tenant, name, value, setBy)
	if err != nil {
		return Credential{}, err
	}
	if err := a.log.AuditNow(ctx, "credential.put", &tenant, name, nil); err != nil {
		return Credential{}, err
	}
	return c, nil
}

func (a audited) DeleteCredential(ctx context.Context, tenant uuid.UUID, name string) error {
	if err := a.Store.DeleteCredential(ctx, tenant, name); err != nil {
		return err
	}
	return a.log.AuditNow(ctx, "credential.delete", &tenant, name, nil)
}
