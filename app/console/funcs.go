package console

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
)

// Translate is the console text key (a message id) in lang.
func Translate(lang, key string) string { return msg.TextOf(lang, key) }

// asTime accepts time.Time, *time.Time and nil.
func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil && !t.IsZero() {
			return *t, true
		}
	}
	return time.Time{}, false
}

// yuan formats an amount in fen as yuan with thousands separators: 123456 → "1,234.56".
func yuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	s := fmt.Sprintf("%s.%02d", b.String(), fen%100)
	if neg {
		return "-" + s
	}
	return s
}

// templateFuncs are the helpers every template may use.
var templateFuncs = template.FuncMap{
	"t": Translate,
	// tf translates key and formats the result with args, e.g. {{tf .Lang "cases.count" 12}}.
	"tf":   func(lang, key string, args ...any) string { return fmt.Sprintf(Translate(lang, key), args...) },
	"yuan": yuan,
	// dt shows a time in Beijing time to the minute; "—" when unset.
	"dt": func(v any) string {
		if t, ok := asTime(v); ok {
			return t.In(clock.China).Format("2006-01-02 15:04")
		}
		return "—"
	},
	"date": func(v any) string {
		if t, ok := asTime(v); ok {
			return t.In(clock.China).Format("2006-01-02")
		}
		return "—"
	},
	// has reports whether the request's scope holds one of the roles (by name).
	"has": func(sc *tenants.Scope, roles ...string) bool {
		if sc == nil {
			return false
		}
		for _, r := range roles {
			if sc.Has(tenants.Role(r)) {
				return true
			}
		}
		return false
	},
	// list makes a list of strings to range over: list "vec" "img".
	"list": func(v ...string) []string { return v },
	// dict builds a map for passing several values to a partial: dict "ID" "m" "Map" .Map.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"query": url.QueryEscape,
	"add":   func(a, b int) int { return a + b },
	// pct shows part/whole as a percentage with one decimal; "—" when whole is 0.
	"pct": func(part, whole int) string {
		if whole == 0 {
			return "—"
		}
		return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
	},
}
