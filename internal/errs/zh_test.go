package errs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// TestZHMessages: every Chinese wording takes the same verbs as its English format, and every
// English format is still said somewhere in the code (a changed message must not leave its
// translation behind).
func TestZHMessages(t *testing.T) {
	var src strings.Builder
	root := filepath.Join("..", "..")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") && !strings.HasSuffix(path, "zh.go") {
			b, _ := os.ReadFile(path)
			src.Write(b)
		}
		return nil
	})
	code := src.String()
	for en, zh := range zhMessages {
		ev, zv := verb.FindAllString(en, -1), verb.FindAllString(zh, -1)
		if strings.Join(ev, " ") != strings.Join(zv, " ") {
			t.Errorf("%q: verbs %v, Chinese %v", en, ev, zv)
		}
		if q := strconv.Quote(en); !strings.Contains(code, q[1:len(q)-1]) {
			t.Errorf("%q is no longer a message in the code", en)
		}
	}
	e := Field("email", "%q is not an email address.", "x@")
	if got := MessageIn(e, "zh-CN"); got != `"x@" 不是有效的电子邮箱地址。` {
		t.Errorf("zh: %s", got)
	}
	if got := MessageIn(e, "en"); got != `"x@" is not an email address.` {
		t.Errorf("en: %s", got)
	}
	if got := MessageIn(E(Invalid, "untranslated %d", 1), "zh-CN"); got != "untranslated 1" {
		t.Errorf("fallback: %s", got)
	}
}
