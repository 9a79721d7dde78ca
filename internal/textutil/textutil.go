// Package textutil has small text helpers shared by every package that echoes user input back in
// a message.
package textutil

import "strings"

// Truncate returns s cut to at most n runes, with an ellipsis when it was cut, so that messages
// quoting user input stay readable.
func Truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// TruncateTrim is Truncate for a value quoted back from a query or a form: a value short enough
// to show whole is shown without its surrounding space.
func TruncateTrim(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return strings.TrimSpace(s)
}
