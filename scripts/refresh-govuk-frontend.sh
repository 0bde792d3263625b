#!/usr/bin/env bash
# Refresh the GOV.UK Frontend assets that the server embeds (crates/server/assets/).
#
# Installs a pinned govuk-frontend and sass from npm into a temporary directory,
# then writes:
#   crates/server/assets/govuk-frontend.min.css    compiled from govuk-frontend's Sass
#   crates/server/assets/govuk-frontend.min.js     the ES module bundle, as shipped
#   crates/server/assets/images/                   our favicon (see below)
#   crates/server/assets/LICENSE-govuk-frontend.txt
#   crates/server/assets/VERSION-govuk-frontend.txt
#
# Throughcare is not on GOV.UK, so it must not use the crown, the royal crest or the
# GDS Transport typeface (both are restricted to GOV.UK). We therefore compile the
# Sass ourselves instead of copying the precompiled CSS:
#   - $govuk-font-family: arial, sans-serif and $govuk-include-default-font-face: false,
#     so no @font-face and no "GDS Transport" font-family is emitted;
#   - an image-url function that turns the footer's crest into `none`, so the CSS
#     points at no crown image.
# None of govuk-frontend's images are copied: every one of them (favicon.ico,
# favicon.svg, govuk-icon-*.png, govuk-icon-mask.svg, govuk-crest.svg, the
# opengraph image) is the crown or the crest. We write our own plain favicon.
#
# Idempotent: run it again and the outputs are rebuilt from the pinned versions.
# To upgrade, change the pins below, run it, and review the diff.
set -euo pipefail

GOVUK_FRONTEND_VERSION="5.14.0" # newest 5.x on npm when pinned
SASS_VERSION="1.108.2"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
assets="$repo_root/crates/server/assets"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "Installing govuk-frontend@$GOVUK_FRONTEND_VERSION and sass@$SASS_VERSION in $work"
(
  cd "$work"
  printf '{ "name": "throughcare-assets", "private": true }\n' > package.json
  # --ignore-scripts: neither package needs an install script (sass is pure JS).
  npm install --silent --no-audit --no-fund --ignore-scripts --omit=optional \
    --save-exact "govuk-frontend@$GOVUK_FRONTEND_VERSION" "sass@$SASS_VERSION"
)

dist="$work/node_modules/govuk-frontend/dist/govuk"
installed_version="$(node -p "require('$work/node_modules/govuk-frontend/package.json').version")"
if [[ "$installed_version" != "$GOVUK_FRONTEND_VERSION" ]]; then
  echo "expected govuk-frontend $GOVUK_FRONTEND_VERSION, npm installed $installed_version" >&2
  exit 1
fi
# The settings we rely on must still exist under these names.
grep -q '^\$govuk-include-default-font-face' "$dist/settings/_typography-font.scss"
grep -q '^\$govuk-font-family:' "$dist/settings/_typography-font.scss"
grep -q '^\$govuk-image-url-function' "$dist/settings/_assets.scss"

cat > "$work/throughcare.scss" <<'SCSS'
// Generic (non-GOV.UK) build of govuk-frontend for Throughcare.
$govuk-font-family: arial, sans-serif;
$govuk-include-default-font-face: false;
$govuk-assets-path: "/assets/";
$govuk-images-path: "/assets/images/";

// The only image govuk-frontend's CSS uses is the royal crest in the footer's
// copyright logo. We never render that element, and must not show the crest.
@function throughcare-image-url($filename) {
  @if $filename == "govuk-crest.svg" {
    @return none;
  }
  @return url("/assets/images/#{$filename}");
}
$govuk-image-url-function: "throughcare-image-url";

@import "govuk-frontend/dist/govuk/index";
SCSS

mkdir -p "$assets"
echo "Compiling Sass"
"$work/node_modules/.bin/sass" \
  --load-path="$work/node_modules" \
  --style=compressed --no-source-map \
  --quiet-deps --silence-deprecation=import --silence-deprecation=global-builtin \
  "$work/throughcare.scss" "$assets/govuk-frontend.min.css"

# The ES module bundle, without its sourceMappingURL (we do not ship the map).
sed -e 's|//# sourceMappingURL=.*$||' "$dist/govuk-frontend.min.js" > "$assets/govuk-frontend.min.js"

# Images: ours only (see header comment). A plain "T" mark, no crown.
rm -rf "$assets/images"
mkdir -p "$assets/images"
cat > "$assets/images/favicon.svg" <<'SVG'
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="4" fill="#0b0c0c"/><path fill="#ffffff" d="M7 7h18v4.5h-6.75V26h-4.5V11.5H7z"/></svg>
SVG

# Licence: the npm package does not ship LICENSE.txt, so we write the upstream
# text (github.com/alphagov/govuk-frontend LICENSE.txt) plus the README's OGL note.
cat > "$assets/LICENSE-govuk-frontend.txt" <<EOF
govuk-frontend $GOVUK_FRONTEND_VERSION (npm package "govuk-frontend"), from
https://github.com/alphagov/govuk-frontend. govuk-frontend.min.css is compiled from
its Sass with Throughcare's font and image settings; govuk-frontend.min.js is its
ES module bundle with the source-map comment removed.

The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

From govuk-frontend's README:

Unless stated otherwise, the codebase is released under the MIT License. This
covers both the codebase and any sample code in the documentation. The
documentation is © Crown copyright and available under the terms of the
Open Government 3.0 licence.

The crown, the royal crest and the GOV.UK typeface are not covered by this
licence; Throughcare uses none of them.
EOF

printf '%s\n' "$GOVUK_FRONTEND_VERSION" > "$assets/VERSION-govuk-frontend.txt"

# Guard: nothing restricted to GOV.UK may reach the assets.
if grep -qi -e 'GDS Transport' -e '@font-face' -e 'govuk-crest' "$assets/govuk-frontend.min.css"; then
  echo "govuk-frontend.min.css still mentions GDS Transport, @font-face or the crest" >&2
  exit 1
fi

echo "govuk-frontend $GOVUK_FRONTEND_VERSION assets written to $assets"
