package app

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/module"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"
)

// openapi.json is written by hand and held true by the tests in this file: it must be a valid
// OpenAPI document (TestOpenAPIValid), and it must describe exactly the routes the server
// registers under /api/v1 (TestAPIRoutesDocumented). Open311 (/open311/v2) is not in it: it is a
// separate protocol with its own formats, errors and authentication, documented in
// docs/open311.md, whose endpoint table TestOpen311RoutesDocumented holds to the routes.

// MustLoadOpenAPI parses the OpenAPI document as served by a at GET /api/v1/openapi.json.
func MustLoadOpenAPI(tb testing.TB, a *App) *openapi3.T {
	tb.Helper()
	res, err := a.fiber.Test(httptest.NewRequest("GET", "/api/v1/openapi.json", nil), -1)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		tb.Fatalf("GET /api/v1/openapi.json: got %d %s, want 200 application/json", res.StatusCode, res.Header.Get(fiber.HeaderContentType))
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		tb.Fatalf("openapi.json does not load: %v", err)
	}
	return doc
}

// operationIDPattern is the house style of operationIds: a lowerCamel verb phrase
// (listCases, getCase, reportCase).
var operationIDPattern = regexp.MustCompile(`^[a-z]+(?:[A-Z0-9][a-z0-9]*)*$`)

// TestOpenAPIValid lints openapi.json: kin-openapi validates it against the OpenAPI 3.1
// specification (structure, schemas and their patterns and defaults, references, path
// parameters, unique operationIds), and the house rules that the specification leaves open are
// checked here: no path ends in a slash, every operation has a lowerCamel operationId, a summary
// and a tag, every error response is problem+json with the shared Problem schema, and Problem's
// codes are those the error handler answers with.
func TestOpenAPIValid(t *testing.T) {
	a, _, _ := MustBootApp(t, "sqlite")
	doc := MustLoadOpenAPI(t, a)
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError(), openapi3.EnableExamplesValidation(),
		openapi3.EnableSchemaPatternValidation(), openapi3.EnableSchemaDefaultsValidation()); err != nil {
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				t.Errorf("openapi.json: %v", e)
			}
		} else {
			t.Errorf("openapi.json: %v", err)
		}
	}
	if got, want := doc.OpenAPI, "3.1.0"; got != want {
		t.Errorf("openapi: got %s, want %s", got, want)
	}
	var codes []string
	for _, v := range doc.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum {
		codes = append(codes, v.(string))
	}
	var want []string
	for _, code := range module.Codes() {
		want = append(want, string(code))
	}
	slices.Sort(codes)
	slices.Sort(want)
	if !slices.Equal(codes, want) {
		t.Errorf("Problem.code: got the codes %v, want those the error handler answers with %v", codes, want)
	}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		if len(path) > 1 && strings.HasSuffix(path, "/") {
			t.Errorf("%s ends in a slash: name it without (the server matches both)", path)
		}
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			op := item.GetOperation(method)
			if !operationIDPattern.MatchString(op.OperationID) {
				t.Errorf("%s %s: operationId %q is not a lowerCamel verb phrase", method, path, op.OperationID)
			}
			if op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s: no summary or no tag", method, path)
			}
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				res := op.Responses.Value(code)
				if code[0] != '4' && code[0] != '5' && code != "default" {
					continue
				}
				if mt := res.Value.Content.Get("application/problem+json"); mt == nil || !isProblem(mt.Schema) {
					t.Errorf("%s %s: response %s is not application/problem+json with the Problem schema", method, path, code)
				}
			}
		}
	}
}

// isProblem says whether s is the Problem schema or extends it (allOf), as ImportProblem does.
func isProblem(s *openapi3.SchemaRef) bool {
	const problem = "#/components/schemas/Problem"
	if s == nil {
		return false
	}
	if s.Ref == problem {
		return true
	}
	return s.Value != nil && slices.ContainsFunc(s.Value.AllOf, func(p *openapi3.SchemaRef) bool { return p.Ref == problem })
}

// TestAPIRoutesDocumented holds openapi.json to the routes: every route under /api/v1 (but HEAD
// and OPTIONS, which fiber adds) has an operation with a unique operationId that declares each of
// the route's path parameters, and every operation has a route.
func TestAPIRoutesDocumented(t *testing.T) {
	a, _, _ := MustBootApp(t, "sqlite")
	doc := MustLoadOpenAPI(t, a)
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers: got %v, want the one server /api/v1 (the paths are relative to it)", doc.Servers)
	}

	routed := map[string]bool{} // "GET /t/{tenant}/cases"
	for _, r := range a.fiber.GetRoutes(true) {
		rest, ok := strings.CutPrefix(r.Path, "/api/v1/")
		if !ok || r.Method == fiber.MethodHead || r.Method == fiber.MethodOptions {
			continue
		}
		path := openAPIPath("/" + rest)
		key := r.Method + " " + path
		if routed[key] {
			continue
		}
		routed[key] = true
		item := doc.Paths.Value(path)
		var op *openapi3.Operation
		if item != nil {
			op = item.GetOperation(r.Method)
		}
		if op == nil {
			t.Errorf("%s is not in openapi.json", key)
			continue
		}
		declared := map[string]bool{}
		for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
			for _, p := range ps {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
					declared[p.Value.Name] = true
				}
			}
		}
		for _, name := range r.Params {
			if !declared[name] {
				t.Errorf("%s: path parameter %s is not declared", key, name)
			}
		}
	}
	if len(routed) < 90 {
		t.Fatalf("only %d API routes found", len(routed))
	}

	ids := map[string]string{}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			op := item.GetOperation(method)
			key := method + " " + path
			if !routed[key] {
				t.Errorf("%s is in openapi.json but no route serves it", key)
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share the operationId %s", key, other, op.OperationID)
			}
			ids[op.OperationID] = key
		}
	}
}

// routeParam matches a parameter of a fiber route path (the :id of /cases/:id).
var routeParam = regexp.MustCompile(`:\w+`)

// openAPIPath writes a fiber route path (/cases/:id) as an OpenAPI path template (/cases/{id}).
func openAPIPath(route string) string {
	return routeParam.ReplaceAllStringFunc(route, func(p string) string { return "{" + p[1:] + "}" })
}

// TestOpen311RoutesDocumented holds the endpoint table of docs/open311.md to the /open311/v2
// routes, both ways. Parameter names are compared as placeholders: the table names them as the
// GeoReport specification does (services/{service_code}.{fmt}), the routes as Go does
// (services/:code.:format).
func TestOpen311RoutesDocumented(t *testing.T) {
	a, _, _ := MustBootApp(t, "sqlite")
	md, err := os.ReadFile("../docs/open311.md")
	if err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{[^}]*\}|` + routeParam.String())
	row := regexp.MustCompile("(?m)^\\| `(GET|POST) ([^`?]+)")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(md), -1) {
		documented[m[1]+" "+placeholder.ReplaceAllString(m[2], "{}")] = true
	}
	routed := map[string]bool{}
	for _, r := range a.fiber.GetRoutes(true) {
		rest, ok := strings.CutPrefix(r.Path, "/open311/v2/")
		if !ok || r.Method == fiber.MethodHead || r.Method == fiber.MethodOptions {
			continue
		}
		key := r.Method + " " + placeholder.ReplaceAllString(rest, "{}")
		routed[key] = true
		if !documented[key] {
			t.Errorf("%s %s is not in the endpoint table of docs/open311.md", r.Method, r.Path)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(documented)) {
		if !routed[key] {
			t.Errorf("docs/open311.md lists %s, which no route serves", key)
		}
	}
	if len(routed) < 8 {
		t.Fatalf("only %d Open311 routes found", len(routed))
	}
}
