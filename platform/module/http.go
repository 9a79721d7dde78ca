package module

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gofiber/fiber/v2"
)

// Scope is the request's tenant scope (nil outside /t/:tenant routes).
func Scope(c *fiber.Ctx) *tenants.Scope { return tenants.ScopeFrom(c.UserContext()) }

// Principal is who is asking (nil for an anonymous request).
func Principal(c *fiber.Ctx) *tenants.Principal { return tenants.PrincipalFrom(c.UserContext()) }

// NeedRole admits callers holding one of roles in the request's tenant.
func NeedRole(roles ...tenants.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc := Scope(c)
		if sc == nil || !sc.Has(roles...) {
			return errs.E(errs.Forbidden, msgYouNeedRoleTenantDo, roles[0])
		}
		return c.Next()
	}
}

// MaxJSONBody bounds JSON request bodies; the server-wide CITYOPS_BODY_LIMIT is larger, for
// uploads (grids, spreadsheets, photos).
const MaxJSONBody = 1 << 20

// DecodeJSON reads the body into v strictly: JSON media type, one JSON object, member names
// matched exactly (case included), no unknown member, no member twice, values of the field's
// type — with messages that say what is wrong where. It decodes with the encoding/json/v2
// prototype (github.com/go-json-experiment/json), whose defaults are these rules; the v1
// decoder matches names case-insensitively and lets a repeated member win, so a body could
// mean something other than what a reader of it sees.
func DecodeJSON(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return errs.E(errs.Unsupported, msgSendBodyJsonContentType)
	}
	body := c.Body()
	if len(body) > MaxJSONBody {
		return errs.E(errs.TooLarge, msgJsonBodyMayMostKib, MaxJSONBody>>10, len(body)>>10)
	}
	return UnmarshalJSON(body, v)
}

// UnmarshalJSON decodes a JSON object that did not come as a request body (a file given to a
// command, a part of a form) by DecodeJSON's rules, with its messages.
func UnmarshalJSON(body []byte, v any) error {
	switch t := bytes.TrimSpace(body); {
	case len(t) == 0:
		return errs.E(errs.Invalid, msgBodyEmptySendJsonObject)
	case t[0] != '{':
		return errs.E(errs.Invalid, msgBodyMustJsonObject)
	}
	if err := jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError says in a sentence what is wrong with a body the decoder refused, naming the field
// as the edge does (items[2].name).
func jsonError(err error) error {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		field := jsonField(syn.JSONPointer)
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return errs.Field(field, msgFieldAppearsMoreThanOnce, field)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errs.E(errs.Invalid, msgBodyEndsMiddleJsonValue)
		case syn.JSONPointer == "" && syn.ByteOffset > 0 && strings.Contains(syn.Err.Error(), "after top-level value"):
			return errs.E(errs.Invalid, msgBodyMustSingleJsonValue)
		}
		return errs.E(errs.Invalid, msgBodyNotValidJsonError, syn.ByteOffset)
	case errors.As(err, &sem):
		field := jsonField(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, jsonv2.ErrUnknownName):
			return errs.Field(field, msgFieldNotKnownHere, field)
		case sem.GoType == nil:
		case field == "":
			return errs.E(errs.Invalid, msgBodyMustJsonNot, jsonKind(sem.GoType.Kind().String()), jsonValueKind(sem.JSONKind))
		case sem.JSONKind == '0' && sem.Err != nil:
			return errs.Field(field, msgFieldHasNumberDoesNot, field, textutil.Truncate(string(sem.JSONValue), 40))
		default:
			return errs.Field(field, msgFieldMustNot, field, jsonKind(sem.GoType.Kind().String()), jsonValueKind(sem.JSONKind))
		}
	}
	return errs.E(errs.Invalid, msgBodyCouldNotReadJson)
}

// jsonField turns a JSON pointer (/items/2/name) into the field name problems use (items[2].name).
func jsonField(ptr jsontext.Pointer) string {
	var b strings.Builder
	for tok := range ptr.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return textutil.Truncate(b.String(), 80)
}

// jsonValueKind names the kind of JSON value a decoder found.
func jsonValueKind(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return k
}
