#!/bin/sh
# Re-vendor front-end assets into static/vendor/ from the exact versions pinned in
# package-lock.json. Pages load these copies only: nothing comes from a CDN at run time.
# Test-only assets (axe-core, which the browser tests inject into pages) go to
# tests/browser/vendor/ instead: the site never serves them.
# node_modules/ is a scratch area (git-ignored); the copied files are what gets committed.
# To upgrade: edit package.json, run `npm install --ignore-scripts`, run this script, and
# update static/vendor/README.md or tests/browser/vendor/README.md.
set -eu

cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
    echo "vendor_assets.sh: npm not found; install Node.js (Debian: apt-get install npm)." >&2
    exit 1
fi

# --ignore-scripts: vendored packages never get to run install hooks on this machine.
npm ci --ignore-scripts --no-audit --no-fund

# vendor_copy PACKAGE TARGET_DIRECTORY FILE...
vendor_copy() {
    package=$1
    target=$2
    shift 2
    mkdir -p "$target"
    for file in "$@"; do
        cp "node_modules/$package/$file" "$target/"
    done
    version=$(node -p "require('./node_modules/$package/package.json').version")
    echo "vendored $package $version -> $target/"
}

vendor_copy htmx.org static/vendor/htmx dist/htmx.min.js LICENSE
vendor_copy leaflet static/vendor/leaflet dist/leaflet.js dist/leaflet.js.map dist/leaflet.css LICENSE
vendor_copy leaflet static/vendor/leaflet/images dist/images/layers.png dist/images/layers-2x.png \
    dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png
vendor_copy axe-core tests/browser/vendor axe.min.js LICENSE LICENSE-3RD-PARTY.txt
