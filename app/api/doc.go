// Package api is the control plane's JSON API under /api/v1: sign-in, sessions and API tokens,
// tenants and their lifecycle, members and invitations, settings, the audit log, exports,
// billing (the operator's and the tenant's views, the Stripe webhook) and integration
// credentials. Mount adds its routes to the groups the app built with its middleware; the
// modules' API routes come from platform/module, Open311's from app/open311api, and the console
// stays in app.
package api
