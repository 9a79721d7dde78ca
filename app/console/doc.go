// Package console is the web console's rendering machinery: the parsed pages (app/web's templates
// and the modules'), the layout's common data (language, account, CSRF token, tenant and
// navigation), the template helpers, the Content-Security-Policy, the maps' tile source, and the
// small rules every page follows (the language, post/redirect/get, form errors, where a person's
// work is). The county admin's pages are here (MountAdmin, with their own AdminDeps); the other
// pages are still in app and move here one group at a time.
package console
