// Package errs is the project's error vocabulary: coded errors whose messages are safe to show a
// person, wrapped with %w on the way up and translated to HTTP once, at the edge.
package errs

import (
	"errors"
	"fmt"
	"github.com/cityops/cityops/internal/msg"
	"time"
)

// Code classifies an error for the edge. Codes are stable strings: they appear in problem+json
// bodies and clients may rely on them.
type Code string

// The codes. Anything that is not an *Error is Internal.
const (
	Invalid      Code = "invalid"        // the request is malformed or breaks a rule
	NotFound     Code = "not_found"      // no such thing (or not visible to the caller)
	Conflict     Code = "conflict"       // already exists, or changed underneath
	Forbidden    Code = "forbidden"      // authenticated, but not allowed
	Unauthorized Code = "unauthorized"   // not authenticated
	TooLarge     Code = "too_large"      // the body or upload is over the limit
	Unavailable  Code = "unavailable"    // a dependency is down; try again later
	Upstream     Code = "upstream"       // another system we called (a vendor's server) failed or answered nonsense
	RateLimited  Code = "rate_limited"   // too many requests
	Unsupported  Code = "unsupported"    // media type not accepted
	Internal     Code = "internal"       // a bug or an unexpected failure; never shown in detail
	Gone         Code = "gone"           // it existed and was removed for good
	Destroyed    Code = "data_destroyed" // encrypted data whose key was destroyed
)

// Error is a coded error with a message meant for the user. Field names the input at fault,
// if any. Err keeps the cause for the logs.
type Error struct {
	Code    Code
	Message string
	Field   string
	Err     error
	// RetryAfter, when set, is how long the caller should wait before trying again; the edge
	// sends it as Retry-After.
	RetryAfter time.Duration
	// msg and args are what Message was made from, so that MessageIn can say it again in
	// another language.
	msg  *msg.Message
	args []any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// E builds a coded error saying m with args.
func E(code Code, m *msg.Message, args ...any) *Error {
	return &Error{Code: code, Message: m.In(msg.EN, args...), msg: m, args: args}
}

// Field builds an Invalid error about one input field.
func Field(field string, m *msg.Message, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: m.In(msg.EN, args...), msg: m, args: args}
}

// Wrap gives cause a code and a user-safe message; the cause stays available to the logs.
func Wrap(cause error, code Code, m *msg.Message, args ...any) *Error {
	return &Error{Code: code, Message: m.In(msg.EN, args...), Err: cause, msg: m, args: args}
}

// MessageID is the id of err's message ("" for internal errors).
func MessageID(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal && e.msg != nil {
		return e.msg.ID()
	}
	return ""
}

// CodeOf returns the code of the outermost *Error in err's chain, Internal when there is none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// MessageOf returns the user-safe message of err in English, and a generic one for internal
// errors.
func MessageOf(err error) string { return MessageIn(err, msg.EN) }

// MessageIn is err's message in lang ("zh-CN" or "en"), and a generic one for internal errors.
func MessageIn(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal && e.msg != nil {
		return e.msg.In(lang, e.args...)
	}
	return msgInternal.In(lang)
}

var msgInternal = msg.New("errs.internal",
	"An internal error occurred. It has been logged; please try again or contact the operator.",
	"服务器内部出错，已记录；请稍后重试或联系运营方。")

// RetryAfterOf returns how long err asks the caller to wait before trying again, zero when it
// does not say.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// FieldOf returns the field an Invalid error is about, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
