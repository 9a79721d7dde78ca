// Package textutil has small text helpers shared by every package that echoes user input back in
// a message.
package textutil

// Truncate returns s cut to at most n runes, with an ellipsis when it was cut, so that messages
// quoting user input stay readable.
func Truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
