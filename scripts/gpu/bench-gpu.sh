#!/usr/bin/env bash
# `pnpm bench:gpu`: on a machine with Node and node_modules, run the check directly (run.sh); with
# --prepare, build .gpu/ for the GPU machine first (prepare.sh), then send the tree with `.gpu`
# carried and run `bash scripts/gpu/run.sh` there.
set -euo pipefail
here=$(dirname "$0")
if [ "${1:-}" = "--prepare" ]; then
  shift
  bash "$here/prepare.sh"
fi
exec bash "$here/run.sh" "$@"
