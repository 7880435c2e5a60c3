#!/usr/bin/env bash
# The one-command GPU check: the tiny pi0 LoRA step and the full-size pi0 LoRA step (batch 8) on
# WebGPU, and the same steps in PyTorch CUDA eager bf16 when PyTorch sees a GPU; prints a summary
# with the ratio. Works with a system Node (development machine; the full-size step is skipped on a
# software adapter such as lavapipe) or, on the GPU machine, with the node and Dawn from .gpu/
# (scripts/gpu/prepare.sh; docs/gpu.md). Results: bench-gpu-out/ (ts.json, torch-*.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${BENCH_GPU_OUT:-bench-gpu-out}
mkdir -p "$out"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export VLA_BACKEND=${VLA_BACKEND:-webgpu}
if [ -f .gpu/app.mjs ] && ! command -v node >/dev/null; then
  # the GPU machine: unpack what prepare.sh packed (docs/gpu.md step 3)
  for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
  xz -dkf .gpu/dist/linux-x64/dawn.node.xz
  timeout 420 /tmp/node .gpu/app.mjs "$out" "$@"
else
  (cd packages/models && timeout 420 npx tsx bench/run.ts gpu-step.ts "../../$out" "$@")
fi
py=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && py=/usr/bin/python3
for spec in "$out"/*.spec.json; do
  name=$(basename "$spec" .spec.json)
  if $py -c 'import torch' 2>/dev/null; then
    timeout 300 $py packages/models/scripts/torch_pi0_lora_step.py "$spec" "$out/torch-$name.json" --device cuda || echo "torch $name failed"
  else
    echo "{\"skipped\": \"no PyTorch for $py\"}" > "$out/torch-$name.json"
  fi
done
$py - "$out" <<'PY' 2>/dev/null || node -e "console.log(require('fs').readFileSync('$out/ts.json','utf8'))"
import json, os, sys
d = sys.argv[1]
ts = json.load(open(os.path.join(d, "ts.json")))
print(f"backend: {ts['backend']}")
for r in ts["results"]:
    name = r["config"]
    tj = os.path.join(d, f"torch-{name}.json")
    t = json.load(open(tj)) if os.path.exists(tj) else {"skipped": "no spec (TS step skipped)"}
    ours = "skipped" if r.get("skipped") else f"{r['msPerStep']:.1f} ms/step (batch {r['batch']}, loss {r['losses'][-1]:.4f})"
    theirs = f"skipped: {t['skipped']}" if "skipped" in t else f"{t['ms_per_step']:.1f} ms/step on {t['device']} (torch {t['torch']})"
    ratio = "" if r.get("skipped") or "skipped" in t else f"  ratio webgpu/torch = {r['msPerStep'] / t['ms_per_step']:.1f}x"
    print(f"{name}: webgpu {ours} | torch cuda bf16 {theirs}{ratio}")
PY
