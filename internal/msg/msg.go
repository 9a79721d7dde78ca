// Package msg is the one catalog of user-visible text: every sentence a person reads — console
// pages, API problems, command-line output — is a Message with an id, its Chinese (zh-CN, the
// first language) and its English wording, declared once beside the code that says it:
//
//	var errPlanCode = msg.New("billing.plan_code", "The plan code %q is not valid.", "套餐代码 %q 无效。")
//
// and said with errs.E(errs.Invalid, errPlanCode, code) or m.In(lang, args...). Texts a template
// names by id (the console's labels) are declared in tables with Define. The two wordings take
// the same fmt verbs in the same order; Check, run by the tests, holds every declared message to
// that and to having both languages.
//
// Why not golang.org/x/text/message: its printer localises numbers, so "%d" of a year reads
// "2,026" in English, and ids would lose the compile-time link between a call and its text that
// a *Message gives. Formatting is fmt's.
package msg

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// The languages.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Message is one user-visible sentence in both languages.
type Message struct {
	id, en, zh string
}

// catalog holds every declared message by id. It is written only while packages initialise
// (New and Define are called from package-level declarations) and read afterwards.
var catalog = struct {
	sync.RWMutex
	byID map[string]*Message
	dups []string
}{byID: map[string]*Message{}}

var idRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// New declares a message. Call it once per id, at package level.
func New(id, en, zh string) *Message {
	m := &Message{id: id, en: en, zh: zh}
	catalog.Lock()
	defer catalog.Unlock()
	if _, dup := catalog.byID[id]; dup {
		catalog.dups = append(catalog.dups, id)
	}
	catalog.byID[id] = m
	return m
}

// Text is a row of a Define table: an id with its Chinese and English wording.
type Text struct {
	ID, ZH, EN string
}

// Define declares a table of messages named by id where they are used (templates); it returns
// nothing useful and is called as var _ = msg.Define(...).
func Define(texts ...Text) struct{} {
	for _, t := range texts {
		New(t.ID, t.EN, t.ZH)
	}
	return struct{}{}
}

// ID is the message's id.
func (m *Message) ID() string { return m.id }

// In is the message in lang ("zh-CN" or "en"; anything else is English), formatted with args.
func (m *Message) In(lang string, args ...any) string {
	f := m.en
	if lang == ZH {
		f = m.zh
	}
	if len(args) == 0 && !strings.Contains(f, "%%") {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// String is the English wording, unformatted (for logs and debugging).
func (m *Message) String() string { return m.en }

// Lookup returns the message declared with id.
func Lookup(id string) (*Message, bool) {
	catalog.RLock()
	defer catalog.RUnlock()
	m, ok := catalog.byID[id]
	return m, ok
}

// TextOf is the message id in lang, or id itself when no message has it.
func TextOf(lang, id string) string {
	if m, ok := Lookup(id); ok {
		return m.In(lang)
	}
	return id
}

// Known reports whether a message has id.
func Known(id string) bool {
	_, ok := Lookup(id)
	return ok
}

// IDs returns every declared id, sorted.
func IDs() []string {
	catalog.RLock()
	defer catalog.RUnlock()
	out := make([]string, 0, len(catalog.byID))
	for id := range catalog.byID {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

var verbRe = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// verbs lists the fmt verbs of a format, in order (%% left out).
func verbs(f string) []string {
	var out []string
	for _, v := range verbRe.FindAllString(f, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	return out
}

// Check returns every problem of the declared messages: an id declared twice or not of the form
// part.part, a wording missing in a language, the two wordings taking different verbs.
func Check() []string {
	catalog.RLock()
	defer catalog.RUnlock()
	var out []string
	for _, id := range catalog.dups {
		out = append(out, "declared twice: "+id)
	}
	for id, m := range catalog.byID {
		switch {
		case !idRe.MatchString(id):
			out = append(out, "id not of the form part.part: "+id)
		case strings.TrimSpace(m.en) == "":
			out = append(out, "no English: "+id)
		case strings.TrimSpace(m.zh) == "":
			out = append(out, "no Chinese: "+id)
		case !slices.Equal(verbs(m.en), verbs(m.zh)):
			out = append(out, fmt.Sprintf("%s: verbs %v in English, %v in Chinese", id, verbs(m.en), verbs(m.zh)))
		}
	}
	sort.Strings(out)
	return out
}
