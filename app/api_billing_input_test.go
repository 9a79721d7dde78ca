package app

import (
	"testing"
)

// TestBillingBadInput sends the billing API input no handler should have to expect — NUL bytes
// and control characters in free text and codes, numbers out of range, impossible dates — and wants
// a 4xx problem for each, never a 500 (bun writes arguments into the SQL text, and both databases
// refuse NUL in text, so such input must be stopped before the query).
func TestBillingBadInput(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			var cases []scenario
			for _, c := range []struct{ method, path, body string }{
				{"POST", "/api/v1/billing/tenants/chuxiong/instalments/abc/issue", ""},
				{"POST", "/api/v1/billing/tenants/chuxiong/instalments/1999/issue", ""},
				{"POST", "/api/v1/billing/tenants/chuxiong/instalments/99999999999999999999/issue", ""},
				{"GET", "/api/v1/billing/tenants/chuxiong/ledger?year=99999999999999999999", ""},
				{"GET", "/api/v1/t/chuxiong/billing/statements/1999", ""},
				{"GET", "/api/v1/t/chuxiong/billing/statements/99999999999999999999", ""},
				{"GET", "/api/v1/t/chuxiong/billing/usage?meter=bogus", ""},
				{"GET", "/api/v1/t/chuxiong/billing/usage?meter=a%00b", ""},
				{"GET", "/api/v1/t/chuxiong/billing/usage?period=a%00b", ""},
				{"GET", "/api/v1/billing/outbox?status=bogus", ""},
				{"GET", "/api/v1/billing/outbox?status=a%00b", ""},
				{"GET", "/api/v1/billing/tenants/a%00b", ""},
				{"PUT", "/api/v1/billing/plans/pilot", `{"name_zh":"x","monthly_fee_fen":-1}`},
				{"PUT", "/api/v1/billing/plans/pilot", `{"name_zh":"x","meters":{"sms":{"included":-1}}}`},
				{"PUT", "/api/v1/billing/plans/pilot", `{"name_zh":"a\u0000b"}`},
				{"PUT", "/api/v1/billing/plans/pilot", `{"name_zh":"ab","name_en":"a\u0000b"}`},
				{"PUT", "/api/v1/billing/plans/pilot", `{"name_zh":"ab","modules":["a\u0000b"]}`},
				{"PUT", "/api/v1/billing/tenants/chuxiong/plan", `{"modules":{"bogus":true}}`},
				{"PUT", "/api/v1/billing/tenants/chuxiong/plan", `{}`},
				{"PUT", "/api/v1/billing/tenants/chuxiong/plan", `{"plan":"a\u0000b"}`},
				{"PUT", "/api/v1/billing/tenants/chuxiong/schedule", `{"principal_fen":100,"years":3,"start_year":99999999}`},
				{"PUT", "/api/v1/billing/tenants/chuxiong/schedule", `{"principal_fen":9223372036854775807,"years":3,"start_year":2026,"rate_bp":2000}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":5,"occurred_at":"not a time"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":5,"occurred_at":"1900-01-01T00:00:00Z"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":5,"memo":"a\u0000b"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":5,"reference":"a\u0007b"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/advances", `{"amount_fen":9223372036854775807}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/plan-changes", `{"plan":"standard","effective":"9999-99"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/plan-changes", `{"plan":"standard","effective":"0001-01"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/plan-changes", `{"plan":"x\u0000y"}`},
				{"POST", "/api/v1/billing/tenants/chuxiong/plan-changes", `{"plan":"standard","memo":"a\u0000b"}`},
				{"POST", "/api/v1/billing/rate", `{"month":"0001-01"}`},
				{"POST", "/api/v1/billing/rate", `{"month":"1999-13"}`},
			} {
				cases = append(cases, scenario{c.method + " " + c.path + " " + c.body, "operator", c.method, c.path, c.body, 0, "", ""})
			}
			for _, tc := range cases {
				res, err := f.do(t, tc.who, tc.method, tc.path, tc.body)
				if err != nil {
					t.Fatal(err)
				}
				if res.status < 400 || res.status >= 500 || res.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: %d %s, want a 4xx problem", tc.name, res.status, res.body)
				}
			}
		})
	}
}
