#!/usr/bin/env bash
# The webgpu test project: tests of lora-core, models, trainer, pi0 and serve re-run with
# VLA_BACKEND=webgpu (tfjs-backend-webgpu through Dawn; on CI Mesa's lavapipe software Vulkan,
# adapter "llvmpipe"). These files read tensors asynchronously and pick the backend from VLA_BACKEND.
# The subset keeps the project to a few minutes on 2 cores; it covers the numerics every other test
# builds on: Linear/LoRA forward+backward, inject/merge, PEFT adapter save/load byte-identity,
# per-buffer limits, AdamW and clipping against torch and the PEFT fixture, the pi0 forward against
# torch, and loading + serving a trained pi0 (pi0 load-trained, what vla-serve runs). Prints
# "webgpu: no adapter (...)" and exits 0 where Dawn finds none.
#   bash scripts/webgpu-tests.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export VLA_BACKEND=webgpu
# Dawn wants a runtime dir; a private temp one keeps runs independent.
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR
trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT

probe=$(cd packages/tfjs-backend && npx tsx -e "
import('./src/index.ts').then((m) => m.initBackend({ backend: 'webgpu' }))
  .then((i) => console.log('ok ' + i.description))
  .catch((e) => console.log('no ' + String(e.message).split('.')[0]));" 2>/dev/null | grep -E '^(ok|no) ' | tail -1)
if [ "${probe#no }" != "$probe" ] || [ -z "$probe" ]; then
  echo "webgpu: no adapter (${probe#no }); webgpu project skipped"
  exit 0
fi
echo "webgpu project on: ${probe#ok }"

status=0
run() {
  local dir=$1
  shift
  echo "== webgpu: $dir $*"
  (cd "$dir" && npx vitest run "$@") || status=1
}
run packages/lora-core src/linear.test.ts src/inject.test.ts src/save-load.test.ts src/buffer-limits.test.ts
run packages/trainer src/optim/adamw.test.ts src/optim/schedule-clip.test.ts src/optim/torch-parity.test.ts \
  src/optim/adamw.fixture.test.ts
run packages/models src/pi0/torch-oracle.test.ts src/ops/attention.test.ts src/layers/embedding.test.ts
run packages/pi0 src/load-trained.test.ts
exit $status
