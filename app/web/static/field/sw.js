// 城管通's service worker, served at /t/{tenant}/m/sw.js so that its scope is the workspace. It
// keeps the shell (the page, its script, style and icons) so that the workspace opens without
// signal: the page from the network when there is one (and then cached again), else the cached
// copy; the static files from the cache first. API requests are not touched: the page queues
// what it files in IndexedDB and sends it itself when the signal returns.
'use strict';
var CACHE = 'cityops-field-v1';
var scope = self.registration.scope; // https://host/t/{tenant}/m/
var SHELL = [scope, '/static/js/field.js', '/static/field/field.css', '/static/field/icon-192.png', '/static/field/icon-512.png'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(SHELL.map(function (u) {
      return fetch(u, { credentials: 'same-origin' }).then(function (r) { if (r.ok) return c.put(u, r); });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('cityops-field-') === 0 && k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf('/api/') === 0) return;
  if (req.mode === 'navigate') {
    // The workspace page: fresh when there is signal, the cached copy without.
    e.respondWith(fetch(req).then(function (r) {
      if (r.ok && !r.redirected) {
        var copy = r.clone();
        caches.open(CACHE).then(function (c) { c.put(scope, copy); });
      }
      return r;
    }).catch(function () {
      return caches.match(scope);
    }));
    return;
  }
  if (url.pathname.indexOf('/static/') === 0) {
    e.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (r) {
        if (r.ok) { var copy = r.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); }
        return r;
      });
    }));
  }
});
