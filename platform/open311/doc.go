// Package open311 is the Open311 GeoReport v2 protocol layer: the public services
// of a tenant (minor classes it opens to citizens), the mapping of cases onto GeoReport service
// requests (open/closed with status notes, the deadline as expected_datetime, the department as
// agency_responsible, never the reporter's personal data), the servicerequestupdates extension
// drawn from the case history, the request parameters and their checks, the XML and JSON
// encoders, and the api keys of a tenant's client apps (stored hashed in the tenant's schema).
//
// A jurisdiction is a tenant (its slug). Open311 reaches tenant data through the one gate with
// narrow scopes of its own: reads run as a read-only viewer (so the case module masks personal
// data and the database refuses writes); a citizen report is entered as an acceptor with source
// citizen, after the client's api key was checked. It uses the case module's exported API only.
package open311
