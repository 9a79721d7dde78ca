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
	"strconv"
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

// verbs lists the fmt verbs of a format by the argument each formats ("1:s", "2:d" …; %% left
// out), following fmt's explicit argument indexes (%[2]d), so that a translation may take its
// arguments in another order.
func verbs(f string) []string {
	byArg := map[int]string{}
	next := 1
	for _, m := range verbRe.FindAllStringSubmatch(f, -1) {
		v := m[0]
		if v == "%%" {
			continue
		}
		if m[1] != "" {
			next, _ = strconv.Atoi(m[1][1 : len(m[1])-1])
		}
		byArg[next] = v[len(v)-1:]
		next++
	}
	args := make([]int, 0, len(byArg))
	for a := range byArg {
		args = append(args, a)
	}
	sort.Ints(args)
	out := make([]string, 0, len(args))
	for _, a := range args {
		out = append(out, strconv.Itoa(a)+":"+byArg[a])
	}
	return out
}

// sameVerbs reports whether two wordings format their arguments alike: an argument both take
// with the same verb, and as many arguments of each verb (a wording may take a language's own
// form of an argument, as catalog's kind in English and in Chinese).
func sameVerbs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	verbOf := func(vs []string) (map[string]string, []string) {
		m, letters := map[string]string{}, make([]string, 0, len(vs))
		for _, v := range vs {
			arg, verb, _ := strings.Cut(v, ":")
			m[arg] = verb
			letters = append(letters, verb)
		}
		sort.Strings(letters)
		return m, letters
	}
	ma, la := verbOf(a)
	mb, lb := verbOf(b)
	for arg, v := range ma {
		if w, ok := mb[arg]; ok && w != v {
			return false
		}
	}
	return slices.Equal(la, lb)
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
		case !sameVerbs(verbs(m.en), verbs(m.zh)):
			out = append(out, fmt.Sprintf("%s: verbs %v in English, %v in Chinese", id, verbs(m.en), verbs(m.zh)))
		}
	}
	sort.Strings(out)
	return out
}
