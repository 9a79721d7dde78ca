// Package web holds the server-rendered pages' templates, static assets and UI text, embedded in
// the binary so the console works on a government network with no internet.
package web

import "embed"

// Files holds templates/ and static/.
//
//go:embed templates static
var Files embed.FS

// AtlasFile is the administrative boundaries the maps draw when a tenant has not uploaded its
// own (Yunnan's counties, tools/assets/boundaries.js; grids.NewAtlas reads it).
const AtlasFile = "static/vendor/boundaries/yunnan.json"
