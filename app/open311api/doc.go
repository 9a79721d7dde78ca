// Package open311api is the public Open311 GeoReport v2 API under /open311/v2 for city apps and
// the 12345 hotline: discovery, services, requests, tokens and updates, in XML or JSON with the
// spec's errors and status codes. Mount adds its routes over the open311.Service the app built;
// SendErrors renders the errors the app refuses at the edge in the same format.
package open311api
