package secrets_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
)

type benchStore struct {
	name string
	s    secrets.Store // nil: no encryption
}

// benchStores returns the stores to compare.
func benchStores(b *testing.B, withNone bool) []benchStore {
	var out []benchStore
	if withNone {
		out = append(out, benchStore{"none", nil})
	}
	return append(out, benchStore{"keyring", mustKeyring(b, b.TempDir())}, benchStore{"vault", mustVaultStore(b)})
}

// BenchmarkStoreCase measures storing one case with a reporter's name and phone number: both
// encrypted in one call and inserted, against the same insert in plain text.
func BenchmarkStoreCase(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b, true) {
		b.Run(st.name, func(b *testing.B) {
			h, err := dbx.OpenSQLite(filepath.Join(b.TempDir(), "t.db"), nil, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			if _, err := h.Writer.ExecContext(ctx, `CREATE TABLE cases (id INTEGER PRIMARY KEY, title TEXT, reporter_name TEXT, reporter_phone TEXT)`); err != nil {
				b.Fatal(err)
			}
			var tn uuid.UUID
			if st.s != nil {
				tn = newTenant(b, st.s)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				name, phone := fmt.Sprintf("张%d", i), fmt.Sprintf("139%08d", i)
				if st.s != nil {
					cs, err := st.s.EncryptBatch(ctx, tn, [][]byte{[]byte(name), []byte(phone)})
					if err != nil {
						b.Fatal(err)
					}
					name, phone = cs[0], cs[1]
				}
				if _, err := h.Writer.ExecContext(ctx, `INSERT INTO cases (title, reporter_name, reporter_phone) VALUES (?, ?, ?)`,
					"井盖缺失", name, phone); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImport10k measures batch encryption for an import of 10,000 rows (name and phone
// each, 20,000 values).
func BenchmarkImport10k(b *testing.B) {
	ctx := context.Background()
	const rows = 10000
	values := make([][]byte, 0, 2*rows)
	for i := range rows {
		values = append(values, fmt.Appendf(nil, "居民%d", i), fmt.Appendf(nil, "138%08d", i))
	}
	for _, st := range benchStores(b, false) {
		b.Run(st.name, func(b *testing.B) {
			tn := newTenant(b, st.s)
			b.ReportAllocs()
			for b.Loop() {
				out, err := st.s.EncryptBatch(ctx, tn, values)
				if err != nil {
					b.Fatal(err)
				}
				if len(out) != len(values) {
					b.Fatal("short batch")
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
