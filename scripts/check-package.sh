#!/usr/bin/env bash
# `npm run check:package`: packs the package exactly as `npm publish` would (the `prepack` script
# builds dist/ first) and checks the tarball the way the ecosystem's tools see it:
#   - the files a user needs are in it (dist/, the CLI, the browser bundle);
#   - @arethetypeswrong/cli under the `esm-only` profile (the package is ESM-only: the CommonJS and
#     node10 resolutions are out of scope, `require()` works through Node's require(esm));
#   - publint --strict (warnings count as errors).
# `attw --pack` would run `npm pack` (and so the build) once more: packing once and handing both tools
# the same tarball checks the same thing for half the time.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "== npm pack (prepack: npm run build)"
# --loglevel warn: the build's own output, without npm's notice line for every packed file.
npm pack --pack-destination "$dir" --loglevel warn
tarball=$(ls "$dir"/*.tgz)

listing=$(tar -tzf "$tarball")
for file in dist/index.js dist/index.d.ts dist/node.js dist/node.d.ts dist/cli.js dist/browser/wsmachine.js bin/wsmachine.mjs; do
  if ! grep -qx "package/$file" <<<"$listing"; then
    echo "check-package: $file is missing from $(basename "$tarball")" >&2
    exit 1
  fi
done
echo "$(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KiB packed"

echo "== attw --profile esm-only"
npx --no-install attw "$tarball" --profile esm-only --no-emoji
echo "== publint --strict"
npx --no-install publint run "$tarball" --strict
