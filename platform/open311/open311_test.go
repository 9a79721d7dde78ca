package open311

import (
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
)

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	get := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	q, err := ParseQuery(get(), now)
	if err != nil || !q.End.Equal(now) || !q.Start.Equal(now.Add(-90*24*time.Hour)) {
		t.Fatalf("default window: %v %+v", err, q)
	}
	q, err = ParseQuery(get("start_date", "2026-01-01T00:00:00+08:00"), now)
	if err != nil || q.End.Sub(q.Start) != DefaultWindow {
		t.Fatalf("start only: %v %+v", err, q)
	}
	q, err = ParseQuery(get("service_request_id", "a, b,,c", "status", "bogus", "start_date", "bad"), now)
	if err != nil || strings.Join(q.IDs, "|") != "a|b|c" {
		t.Fatalf("ids override: %v %+v", err, q)
	}
	for _, kv := range [][]string{{"status", "pending"}, {"start_date", "2026-01-01"}, {"end_date", "yesterday"},
		{"start_date", "2026-02-01T00:00:00Z", "end_date", "2026-01-01T00:00:00Z"}, {"service_request_id", strings.Repeat("x,", 101)}} {
		if _, err := ParseQuery(get(kv...), now); !errs.Is(err, errs.Invalid) {
			t.Fatalf("%v: %v", kv, err)
		}
	}
	q, err = ParseUpdatesQuery(get("status", "bogus", "end_date", "2026-05-01T00:00:00Z"), now)
	if err != nil || q.Status != "" || !q.End.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("updates: %v %+v", err, q)
	}
}

func TestServiceCode(t *testing.T) {
	for in, ok := range map[string]bool{"event-0101": true, "component-9901": true, "event-01": false, "0101": false, "road-0101": false, "event-01a1": false, "": false} {
		if _, _, got := ParseServiceCode(in); got != ok {
			t.Errorf("ParseServiceCode(%q) = %v, want %v", in, got, ok)
		}
	}
	if k, c, _ := ParseServiceCode(ServiceCode("event", "0203")); k != "event" || c != "0203" {
		t.Fatalf("round trip: %s %s", k, c)
	}
}

func TestEncodeRoots(t *testing.T) {
	for _, tc := range []struct {
		v          any
		root, json string
	}{
		{[]PublicService{}, "<services></services>", "[]"},
		{[]Request{{ID: "1"}}, "<service_requests>", `[{"service_request_id":"1"`},
		{[]Receipt{{ID: "1", Token: "t"}}, "<service_requests>", `[{"service_request_id":"1","token":"t"}]`},
		{[]Update{}, "<service_request_updates></service_request_updates>", "[]"},
		{[]Error{{Code: 404, Description: "x"}}, "<errors>", `[{"code":404,"description":"x"}]`},
		{&ServiceDefinition{ServiceCode: "event-0101", Attributes: []Attribute{}}, "<service_definition>", `{"service_code":"event-0101","attributes":[]}`},
		{&Discovery{}, "<discovery>", `{"changeset"`},
	} {
		x, err := Encode(XML, tc.v)
		if err != nil || !strings.HasPrefix(string(x), `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+tc.root) {
			t.Errorf("XML %T: %v %s", tc.v, err, x)
		}
		j, err := Encode(JSON, tc.v)
		if err != nil || !strings.HasPrefix(string(j), tc.json) {
			t.Errorf("JSON %T: %v %s", tc.v, err, j)
		}
	}
	if _, err := Encode(XML, 42); err == nil {
		t.Fatal("encoded an int")
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("a,b", "event-0101", "open", "2026-01-01T00:00:00+08:00", "")
	f.Add("", "component-0101,x", "closed", "", "2026-01-01T00:00:00Z")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ids, codes, status, start, end string) {
		vals := map[string]string{"service_request_id": ids, "service_code": codes, "status": status, "start_date": start, "end_date": end}
		q, err := ParseQuery(func(k string) string { return vals[k] }, now)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("not invalid: %v", err)
			}
			return
		}
		if len(q.IDs) == 0 && q.End.Before(q.Start) {
			t.Fatalf("window backwards: %+v", q)
		}
	})
}

func FuzzParseServiceCode(f *testing.F) {
	f.Add("event-0101")
	f.Add("component-99x9")
	f.Fuzz(func(t *testing.T, s string) {
		if k, c, ok := ParseServiceCode(s); ok && ServiceCode(k, c) != s {
			t.Fatalf("%q → %s %s", s, k, c)
		}
	})
}
