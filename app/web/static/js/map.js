// map.js draws the console's Leaflet maps. A map is a <div class="map"> whose data attributes say
// what to show (see the "map" partial in templates/partials/common.html):
//   data-base    id of a <script type="application/json"> holding the tenant's base map
//                (console.MapBase): {kind, tiles: [{url, subdomains, attribution, max_zoom}],
//                max_zoom, offline: [layers]}. Every map builds its base layers here, from the
//                tenant's tile source (天地图, XYZ, WMTS); the offline layers (the administrative
//                boundary, and the grids when there are no tiles) are drawn under the page's own,
//                so a map without any tile service still shows the county's territory.
//   data-layers  id of a <script type="application/json"> holding an array of layers:
//                {url | data, kind: "grids"|"boundary"|"cases"|"points"|"heat", cluster, bbox, link, fit, interactive}
//                (heat: grids filled by counts[code] against max, the count in the popup)
//                url layers with bbox:true are reloaded for the visible window (cases.geojson);
//                link is a URL template with {property} placeholders for the popup's link;
//                states maps a case's state to the words the popup shows.
//   data-pick    "latInputID,lonInputID": a click (or the device's position) fills the inputs
//   data-preview id of a file input: a chosen GeoJSON file is drawn before it is uploaded
(function () {
  'use strict';
  var CHUXIONG = [25.03, 101.55];

  // tiles adds the base's tile layers. Past a source's own highest zoom its tiles are scaled.
  function tiles(map, base) {
    (base.tiles || []).forEach(function (t) {
      L.tileLayer(t.url, {
        subdomains: t.subdomains || 'abc', maxNativeZoom: t.max_zoom || 18, maxZoom: 19,
        attribution: t.attribution ? text(t.attribution) : ''
      }).addTo(map);
    });
  }

  // baseOf reads the map's base (data-base); offline with no layers when missing.
  function baseOf(el) {
    var src = el.dataset.base && document.getElementById(el.dataset.base);
    var base = null;
    if (src) { try { base = JSON.parse(src.textContent); } catch (e) { base = null; } }
    return base || { kind: 'offline', tiles: [], offline: [] };
  }

  function fill(template, props) {
    return template.replace(/\{(\w+)\}/g, function (_, k) {
      return encodeURIComponent(props[k] == null ? '' : String(props[k]));
    });
  }

  function text(s) {
    var d = document.createElement('div');
    d.textContent = s == null ? '' : String(s);
    return d.innerHTML;
  }

  function gridStyle() { return { color: '#0b5cad', weight: 1.5, fillOpacity: 0.06 }; }
  // heatStyle fills a grid from pale to deep red by its count against the layer's max.
  function heatStyle(spec, p) {
    var n = (spec.counts && spec.counts[p.code]) || 0;
    var r = spec.max ? n / spec.max : 0;
    return { color: '#7a271a', weight: 1, fillColor: n ? 'hsl(' + Math.round(45 - 45 * r) + ', 90%, ' + Math.round(70 - 30 * r) + '%)' : '#ffffff', fillOpacity: n ? 0.35 + 0.45 * r : 0.05 };
  }
  function boundaryStyle() { return { color: '#b42318', weight: 2, dashArray: '6 4', fill: false }; }

  function popup(layer, props) {
    var title = props.number || props.name || props.code || '';
    var html = layer.link ? '<a href="' + fill(layer.link, props) + '">' + text(title) + '</a>' : text(title);
    if (props.state) html += '<br>' + text((layer.states && layer.states[props.state]) || props.state);
    if (props.code && props.name) html += '<br><small>' + text(props.code) + '</small>';
    // The public map's photo (only where the county shows photos); a missing one is dropped.
    if (props.photo) html += '<br><img class="popup-photo" src="' + text(props.photo) + '" alt="' + text(layer.photo_alt || '') + '" loading="lazy" width="200">';
    if (props.reported) html += '<br><small>' + text(props.reported) + '</small>';
    if (layer.kind === 'heat') html += '<br><strong>' + text((layer.counts && layer.counts[props.code]) || 0) + '</strong>';
    return html;
  }

  function geoLayer(spec) {
    var opts = {
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        if (f.id != null && p.id == null) p.id = f.id; // cases.geojson carries the case id as the feature's id
        l.bindPopup(popup(spec, p));
      }
    };
    if (spec.kind === 'grids') opts.style = gridStyle;
    if (spec.kind === 'heat') opts.style = function (f) { return heatStyle(spec, f.properties || {}); };
    if (spec.kind === 'boundary') opts.style = boundaryStyle;
    if (spec.kind === 'tracks') opts.style = function (f) { return { color: (f.properties && f.properties.color) || '#7c3aed', weight: 4, opacity: 0.85 }; };
    // interactive:false draws a layer for orientation only: no popups, and a click goes through
    // to the map (picking a location on a report form). The boundary is only ever an outline.
    if (spec.interactive === false || spec.kind === 'boundary') { opts.interactive = false; delete opts.onEachFeature; }
    if (spec.kind === 'cases' || spec.kind === 'points') {
      opts.pointToLayer = function (f, latlng) {
        var p = f.properties || {};
        var color = p.overdue ? '#b42318' : (p.state === 'closed' ? '#3f8f29' : '#d97706');
        return L.circleMarker(latlng, { radius: 7, color: '#fff', weight: 1.5, fillColor: color, fillOpacity: 0.9 });
      };
    }
    return L.geoJSON(null, opts);
  }

  function load(map, spec, group, fit) {
    var url = spec.url;
    if (spec.bbox) {
      var b = map.getBounds();
      url += (url.indexOf('?') < 0 ? '?' : '&') + 'bbox=' + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(',');
    }
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/geo+json, application/json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { draw(map, spec, group, data, fit); })
      .catch(function (e) { console.warn('map layer', spec.url, e); });
  }

  function draw(map, spec, group, data, fit) {
    group.clearLayers();
    var gl = geoLayer(spec);
    gl.addData(data);
    group.addLayer(gl);
    // No animation: a background tab (or a slow machine) may never finish it, leaving the layers scaled.
    if (fit && gl.getLayers().length) map.fitBounds(gl.getBounds(), { maxZoom: 16, padding: [20, 20], animate: false });
  }

  function init(el) {
    // maxZoom: clustering needs one even when no tile layer sets it (offline).
    var map = L.map(el, { zoomControl: true, attributionControl: true, maxZoom: 19 }).setView(CHUXIONG, 12);
    var base = baseOf(el);
    tiles(map, base);
    var specs = [];
    var src = el.dataset.layers && document.getElementById(el.dataset.layers);
    if (src) { try { specs = JSON.parse(src.textContent) || []; } catch (e) { specs = []; } }
    // The offline layers go first (under the page's), unless the page draws that kind itself.
    var has = {};
    specs.forEach(function (s) { has[s.kind === 'heat' ? 'grids' : s.kind] = true; });
    specs = (base.offline || []).filter(function (o) { return !has[o.kind]; }).map(function (o) {
      return Object.assign({ base: true }, o);
    }).concat(specs);
    var windowed = [];
    var first = Promise.resolve();
    specs.forEach(function (spec) {
      var group = spec.cluster && L.markerClusterGroup ? L.markerClusterGroup({ showCoverageOnHover: false }) : L.featureGroup();
      group.addTo(map);
      if (spec.data) { draw(map, spec, group, spec.data, spec.fit); return; }
      if (spec.bbox) { windowed.push([spec, group]); return; }
      first = first.then(function () { return load(map, spec, group, spec.fit); });
    });
    // Windowed layers (the cases of the visible window) load once the other layers have placed
    // the map, and again whenever it moves.
    first.then(function () {
      windowed.forEach(function (w) { load(map, w[0], w[1], false); });
      if (windowed.length) {
        var t;
        map.on('moveend', function () {
          clearTimeout(t);
          t = setTimeout(function () { windowed.forEach(function (w) { load(map, w[0], w[1], false); }); }, 250);
        });
      }
    });
    if (el.dataset.pick) pick(map, el.dataset.pick.split(','));
    if (el.dataset.preview) preview(map, document.getElementById(el.dataset.preview));
    el.cityopsMap = map;
  }

  function pick(map, ids) {
    var lat = document.getElementById(ids[0]), lon = document.getElementById(ids[1]);
    if (!lat || !lon) return;
    var marker = null;
    function set(latlng, pan) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
      if (pan) map.setView(latlng, Math.max(map.getZoom(), 16));
    }
    map.on('click', function (e) { set(e.latlng, false); });
    function fromInputs() {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (!isNaN(a) && !isNaN(b)) set(L.latLng(a, b), true);
    }
    lat.addEventListener('change', fromInputs);
    lon.addEventListener('change', fromInputs);
    fromInputs();
    var btn = document.querySelector('[data-locate]');
    if (btn && navigator.geolocation) {
      btn.hidden = false;
      btn.addEventListener('click', function (e) {
        e.preventDefault();
        navigator.geolocation.getCurrentPosition(function (pos) {
          set(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
        }, function (err) { btn.setAttribute('title', err.message); }, { enableHighAccuracy: true, timeout: 15000 });
      });
    }
  }

  function preview(map, input) {
    if (!input) return;
    var group = L.featureGroup().addTo(map);
    input.addEventListener('change', function () {
      var f = input.files && input.files[0];
      if (!f) return;
      f.text().then(function (s) {
        draw(map, { kind: 'grids' }, group, JSON.parse(s), true);
      }).catch(function (e) { console.warn('preview', e); });
    });
  }

  function start() {
    if (typeof L === 'undefined') return;
    document.querySelectorAll('div.map').forEach(init);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
