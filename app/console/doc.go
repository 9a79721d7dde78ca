// Package console is the web console's rendering machinery: the parsed pages (app/web's templates
// and the modules'), the layout's common data (language, account, CSRF token, tenant and
// navigation), the template helpers, the Content-Security-Policy, the maps' tile source, and the
// small rules every page follows (the language, post/redirect/get, form errors, where a person's
// work is). It also holds the page groups moved out of app so far, each mounted with its own Deps:
// the operating company's console (MountOps), the prefecture's overview (MountPrefecture), a
// tenant's billing pages (MountBilling) and the county admin's pages (MountAdmin). The other
// pages (the case workspace, the public form, login and account) are still in app.
package console
