package app

// The HTTP edge: what every request is checked for before any handler runs, and the one rule
// about request strings. docs/security.md says the same for the people who run the service.
//
// # Request strings do not outlive the request (fiber.Config.Immutable)
//
// fasthttp reuses its request buffers: without Immutable, every string fiber hands out —
// c.Params, c.Query, c.Get, c.FormValue, c.Cookies, c.Method(), c.Path(), c.OriginalURL() —
// aliases bytes that the next request on any connection overwrites. Kept past the handler (a
// cache key, a map, a metrics label, an error, a goroutine, an audit row written later) such a
// string silently turns into another request's: one county's request was once answered with
// another county's tenant that way. The server therefore runs with Immutable, which copies each
// request's path and method and each value as it is read. Measured in BenchmarkImmutable
// (docs/benchmarks.md, "HTTP edge"): a handler reading nine values pays ten more allocations
// (200 B) and at most 0.7 µs, up to 3 % of the cheapest real request (26–28 µs of CPU), which
// itself makes five such copies, about 1 %. The guarantee is worth that: it is kept for all
// code, present and future, rather than by remembering strings.Clone at each place. Code below
// the edge that keeps a caller's string (caches, maps) copies it anyway: stores do not trust the
// lifetime of strings they are given. c.Body() is copied too under Immutable; c.Request() and
// c.Context() (the raw fasthttp objects) are not: never keep what they return.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/msg"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/gofiber/fiber/v2"
)

// maxJSONDepth bounds how deeply a JSON body may nest: no request of the API needs more than a
// few levels, and a deep body costs the decoder stack for nothing.
const maxJSONDepth = 32

// checkInput refuses, before any handler runs, a request with a string no handler should ever
// see: a NUL byte, a control character where text has none, or bytes that are not UTF-8, in the
// path, the query, a header, a form or multipart field, an uploaded file's name or any JSON
// string or member name. Tabs and line breaks are text in form fields and JSON strings (a
// description has paragraphs) and a tab may stand in a header; nowhere else. The answer is a
// 400 problem naming the field. Below the edge, internal/dbx refuses a NUL that reaches a
// statement all the same (bun writes arguments into the SQL text, and both databases end a
// statement at NUL).
func checkInput(c *fiber.Ctx) error {
	req := c.Request()
	if !cleanText(req.URI().PathOriginal(), false) || !cleanText(req.URI().Path(), false) {
		return errs.Field("path", msgAddressUrlPathContainsNul)
	}
	var err error
	req.URI().QueryArgs().VisitAll(func(k, v []byte) {
		if err == nil {
			err = checkArg(k, v, false, msgQueryNotUTF8, msgQueryControl)
		}
	})
	if err != nil {
		return err
	}
	req.Header.VisitAll(func(k, v []byte) {
		if err == nil && (!cleanText(k, false) || !cleanHeader(v)) {
			name := textutil.Truncate(string(k), 60)
			err = errs.Field(name, msgHeaderContainsNulByteControl, name)
		}
	})
	if err != nil {
		return err
	}
	if len(req.Body()) == 0 && !req.IsBodyStream() {
		return c.Next()
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	switch {
	case ct == fiber.MIMEApplicationForm:
		req.PostArgs().VisitAll(func(k, v []byte) {
			if err == nil {
				err = checkArg(k, v, true, msgFormNotUTF8, msgFormControl)
			}
		})
	case ct == fiber.MIMEMultipartForm:
		err = checkMultipart(c)
	case ct == fiber.MIMEApplicationJSON || strings.HasSuffix(ct, "+json"):
		err = checkJSON(req.Body())
	}
	if err != nil {
		return err
	}
	return c.Next()
}

// checkArg checks one query or form argument: its name as a name, its value as a name or (in
// forms) as text with line breaks.
func checkArg(k, v []byte, multiline bool, notUTF8, control *msg.Message) error {
	name := textutil.Truncate(strings.ToValidUTF8(string(k), "\uFFFD"), 60)
	if !utf8.Valid(k) || !utf8.Valid(v) {
		return errs.Field(name, notUTF8, name)
	}
	if !cleanText(k, false) || !cleanText(v, multiline) {
		return errs.Field(name, control, name)
	}
	return nil
}

// checkMultipart checks a multipart form's values and the names of its files (their contents
// are the handlers' to check: they are photos, spreadsheets, GeoJSON). A body that is not a
// well-formed multipart form is refused as such.
func checkMultipart(c *fiber.Ctx) error {
	mf, err := c.MultipartForm()
	if err != nil {
		if errors.Is(err, fiber.ErrRequestEntityTooLarge) {
			return err
		}
		return errs.E(errs.Invalid, msgBodyNotWellFormedMultipart)
	}
	for k, vs := range mf.Value {
		for _, v := range vs {
			if err := checkArg([]byte(k), []byte(v), true, msgFormNotUTF8, msgFormControl); err != nil {
				return err
			}
		}
	}
	for k, fs := range mf.File {
		for _, fh := range fs {
			if !cleanText([]byte(k), false) || !cleanText([]byte(fh.Filename), false) {
				name := textutil.Truncate(strings.ToValidUTF8(k, "\uFFFD"), 60)
				return errs.Field(name, msgNameFileUploadedContainsNul, name)
			}
		}
	}
	return nil
}

// awaitName marks an object level whose next token is a member name (no name has a NUL: names
// with one are refused).
const awaitName = "\x00"

// checkJSON walks a JSON body once: valid UTF-8 throughout, no NUL or control character in any
// string (tabs and line breaks excepted) or member name, at most maxJSONDepth levels. Syntax
// errors are left to the handler's strict decoder, which names them better.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, n := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return errs.E(errs.Invalid, msgBodyNotValidUtfText, off)
	}
	if jsonLooksClean(body) {
		return nil
	}
	return walkJSON(body) // something is off: walk the body to name the field
}

// walkJSON decodes a JSON body token by token and refuses, naming the field, a string or
// member name with a control character, or nesting deeper than maxJSONDepth.
func walkJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type level struct {
		array bool
		index int
		key   string
	}
	var stack []level
	path := func() string {
		var b strings.Builder
		for _, l := range stack {
			if l.array {
				b.WriteString("[" + strconv.Itoa(l.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(l.key)
		}
		return textutil.Truncate(b.String(), 80)
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // a syntax error: the handler's decoder says where
		}
		top := len(stack) - 1
		// Is this token a member name? Inside an object, names and values alternate; the
		// level's key is awaitName while a name is awaited.
		isKey := top >= 0 && !stack[top].array && stack[top].key == awaitName
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return errs.E(errs.Invalid, msgJsonBodyNestedMoreThan, maxJSONDepth)
				}
				stack = append(stack, level{array: t == '[', key: awaitName})
				continue
			case '}', ']':
				stack = stack[:top]
			}
		case string:
			if isKey {
				if !cleanText([]byte(t), false) {
					return errs.E(errs.Invalid, msgMemberNameBodyContainsNul)
				}
				stack[top].key = t
				continue
			}
			if !cleanText([]byte(t), true) {
				p := path()
				return errs.Field(p, msgFieldContainsNulByteControl, p)
			}
		}
		// A value ended: the enclosing object awaits its next name, the array its next element.
		if n := len(stack) - 1; n >= 0 {
			if stack[n].array {
				stack[n].index++
			} else {
				stack[n].key = awaitName
			}
		}
	}
}

// jsonLooksClean scans a JSON body once, without allocating, for what checkJSON refuses: a
// control character or DEL escaped in a string (tabs and line breaks only in values), a raw DEL,
// nesting deeper than maxJSONDepth. It says true when there is none; false sends the body to the
// walk that names the field. (Raw control characters cannot stand in a JSON string: the
// decoder refuses them as a syntax error.) Bodies are large where GeoJSON is uploaded, and this
// runs before authentication, so it must cost little more than reading the bytes.
func jsonLooksClean(b []byte) bool {
	var stack [maxJSONDepth + 1]byte // '{' or '[' per open level
	depth := 0
	expectKey := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if depth == maxJSONDepth {
				return false
			}
			stack[depth] = c
			depth++
			expectKey = c == '{'
		case '}', ']':
			if depth > 0 {
				depth--
			}
		case ',':
			expectKey = depth > 0 && stack[depth-1] == '{'
		case ':':
			expectKey = false
		case 0x7f:
			return false
		case '"':
			key := expectKey
			for i++; i < len(b) && b[i] != '"'; i++ {
				switch b[i] {
				case 0x7f:
					return false
				case '\\':
					i++
					if i >= len(b) {
						return true // unterminated: a syntax error for the decoder
					}
					switch b[i] {
					case 'b', 'f':
						return false
					case 't', 'n', 'r':
						if key {
							return false
						}
					case 'u':
						if i+4 >= len(b) {
							return true
						}
						if r, ok := hex4(b[i+1 : i+5]); ok && (r < 0x20 || r == 0x7f) &&
							(key || (r != '\t' && r != '\n' && r != '\r')) {
							return false
						}
						i += 4
					}
				}
			}
		}
	}
	return true
}

// hex4 reads four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// cleanText reports whether b is UTF-8 without NUL, C0 control characters or DEL; multiline
// text may hold tabs and line breaks.
func cleanText(b []byte, multiline bool) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			if multiline && (c == '\t' || c == '\n' || c == '\r') {
				continue
			}
			return false
		}
	}
	return true
}

// cleanHeader is cleanText for a header value, where a tab is white space.
func cleanHeader(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// methodLabel is the method as a metrics label and log field: a constant for the methods the
// app serves, "OTHER" for anything else, so that no label is built from request bytes and a
// client cannot grow the label set.
func methodLabel(m string) string {
	for _, known := range servedMethods {
		if m == known {
			return known
		}
	}
	return "OTHER"
}

var servedMethods = [...]string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut,
	fiber.MethodPatch, fiber.MethodDelete, fiber.MethodOptions}

// lingerTimeout bounds how long a closing connection keeps reading what the client still sends.
const lingerTimeout = 5 * time.Second

// lingerMax bounds how much of it is read and thrown away.
const lingerMax = 16 << 20

// lingeringListener closes connections the way net/http does: it first shuts down the writing
// side (the response already sent goes out, followed by FIN), then reads and discards what the
// client is still sending, briefly, and only then closes. Without this, a server that answers
// before reading a request body — fasthttp's 413 for a body over the limit, sent without
// "Expect: 100-continue" — closes a socket with unread data, the kernel answers with a reset,
// and the client sees "connection reset" instead of the 413.
//
// The lingering reads run in closes; shutdown closes it and waits for them (each ends within
// lingerTimeout). A connection closed after that closes at once.
type lingeringListener struct {
	net.Listener
	closes *tasks.Group
}

func lingering(ln net.Listener, closes *tasks.Group) net.Listener {
	return lingeringListener{ln, closes}
}

func (l lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingeringConn{TCPConn: tc, closes: l.closes}, nil
	}
	return c, nil
}

type lingeringConn struct {
	*net.TCPConn
	closes *tasks.Group
	once   sync.Once
}

func (c *lingeringConn) Close() error {
	c.once.Do(func() {
		if err := c.CloseWrite(); err != nil {
			c.TCPConn.Close()
			return
		}
		if !c.closes.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.CopyN(io.Discard, c.TCPConn, lingerMax)
			c.TCPConn.Close()
		}) {
			c.TCPConn.Close() // shutting down
		}
	})
	return nil
}
