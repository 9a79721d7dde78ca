// Package console is the web console: its rendering machinery (the parsed pages, app/web's
// templates and the modules', the layout's common data — language, account, CSRF token, tenant
// and navigation —, the template helpers, the Content-Security-Policy, the maps' tile source),
// the small rules every page follows (the language, post/redirect/get, form errors, where a
// person's work is), and every page group, each a handler type mounted with its own Deps:
// signing in and landing (MountAccount), the operating company's console (MountOps), the case
// workspace (MountWorkspace), the county admin's pages (MountAdmin), the prefecture's overview
// (MountPrefecture), a tenant's billing pages (MountBilling) and citizens' report pages
// (MountPublic). app mounts them in webRoutes behind its gate; a module's own pages are mounted
// from its registration (platform/module) instead.
package console
