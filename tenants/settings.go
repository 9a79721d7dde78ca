package tenants

import (
	"context"

	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
)

// PutSetting sets the tenant setting key to value in the tenant of ctx, through the gate, and
// audits it as setting.put. by is who set it (an email).
func (s *Store) PutSetting(ctx context.Context, key, value, by string) (*Setting, error) {
	if !ValidSettingKey(key) {
		return nil, errs.Field("key", msgSettingKeyLowerCaseLetters)
	}
	if len(value) > 4096 {
		return nil, errs.Field("value", msgSettingValueMostBytes)
	}
	if err := checkSetting(key, value); err != nil {
		return nil, err
	}
	st := &Setting{Key: key, Value: value, UpdatedAt: s.now(), UpdatedBy: by}
	err := s.Tx(ctx, Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(st).On("CONFLICT (key) DO UPDATE").
			Set("value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.AuditTenant(ctx, "setting.put", key, map[string]string{"value": value}); err != nil {
		return nil, err
	}
	return st, nil
}
