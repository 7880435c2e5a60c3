#!/usr/bin/env bash
# Builds the ignored .gpu/ folder the GPU machine needs (it has no Node.js and no network), exactly as
# docs/gpu.md describes: node binary, Dawn's dawn.node, libvulkan1's .deb, and the benchmark bundled
# into one file (.gpu/app.mjs). Run on the development machine, in the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> "$(git rev-parse --git-common-dir)/info/exclude"
mkdir -p .gpu/gl .gpu/dist/linux-x64
if ! ls .gpu/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null && (cd .gpu/gl && apt-get $o download libvulkan1 >/dev/null)
fi
[ -f .gpu/node.xz ] || xz -T2 -c "$(readlink -f "$(command -v node)")" > .gpu/node.xz
dawn=$(node -e "console.log(require.resolve('webgpu/package.json',{paths:['packages/tfjs-backend']}).replace(/package.json$/,''))")dist/linux-x64/dawn.node
[ -f .gpu/dist/linux-x64/dawn.node.xz ] || xz -c "$dawn" > .gpu/dist/linux-x64/dawn.node.xz
(cd packages/models && npx esbuild ../../scripts/gpu/entry.ts --bundle --platform=node --format=esm \
  --main-fields=module,main --external:*.node --log-level=warning --outfile=../../.gpu/app.mjs \
  --banner:js="import {createRequire as __cr} from 'module'; const require = __cr(import.meta.url);")
du -sh .gpu | sed 's/^/prepared /'
