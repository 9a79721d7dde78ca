package blob

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCheckKey: a key CheckKey accepts names a file inside the local store's folder, never
// outside it, and has no byte a URL or SQL text would need to escape.
func FuzzCheckKey(f *testing.F) {
	for _, k := range []string{"tenants/0b9f6a52-4d0e-4d5e-9a43-1f2f9e4c7a10/photos/ab/ab12", "offboarding/x/y.zip", "../x", "a//b", "a/./b", "/abs", "a\x00b", "a\\b", "..", "."} {
		f.Add(k)
	}
	root := filepath.Join(f.TempDir(), "root")
	l := NewLocal(root)
	f.Fuzz(func(t *testing.T, key string) {
		if CheckKey(key) != nil {
			return
		}
		p := l.path(key)
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("key %q names %s, outside %s", key, p, root)
		}
		if strings.ContainsAny(key, "\x00\\?#%& \"'") {
			t.Fatalf("key %q accepted with a byte to escape", key)
		}
	})
}
