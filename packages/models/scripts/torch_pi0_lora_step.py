"""The PyTorch side of the one-command GPU check (root `pnpm bench:gpu`): the same pi0 LoRA training
step as bench/gpu-step.ts (loss forward + backward, no optimizer), built from the spec the TS side
wrote (parameter names and shapes, LoRA modules with rank and scaling, batch, torch_pi0 config), on
openpi's pi0 math in plain torch (torch_pi0.py), eager, bfloat16 (frozen weights stored in bf16,
LoRA and heads in float32, compute under torch.autocast(bfloat16)), random values.

usage: torch_pi0_lora_step.py SPEC.json OUT.json [--device cuda|cpu] [--steps 3]
Exit 0 with {"skipped": reason} in OUT.json when the device is not there.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_pi0  # noqa: E402
from torch_pi0_lora import HEADS, SCALING  # noqa: E402  (and LoRA on torch_pi0.lin)


def main():
    spec_path, out_path = sys.argv[1], sys.argv[2]
    argv = sys.argv[3:]
    device = argv[argv.index("--device") + 1] if "--device" in argv else "cuda"
    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else 3
    spec = json.load(open(spec_path))
    if device == "cuda" and not torch.cuda.is_available():
        json.dump({"skipped": f"torch {torch.__version__} sees no CUDA device"}, open(out_path, "w"))
        print(f"torch: skipped, no CUDA (torch {torch.__version__})", file=sys.stderr)
        return
    dev = torch.device(device)
    g = torch.Generator(device="cpu").manual_seed(0)
    p = {}
    for name, shape in spec["params"].items():
        head = name.split(".")[0] in HEADS
        if name.endswith(("layer_norm1.weight", "layer_norm2.weight", "post_layernorm.weight")):
            t = torch.ones(shape)
        elif name.endswith(("layernorm.weight", "norm.weight", ".bias")):
            t = torch.zeros(shape)
        else:
            t = torch.randn(shape, generator=g) * 0.02
        t = t.to(dev, torch.float32 if head else torch.bfloat16)
        p[name] = t.requires_grad_(head)
    train = [p[k] for k in p if k.split(".")[0] in HEADS]
    for mod, lo in spec["lora"].items():
        w = spec["params"][mod + ".weight"]
        SCALING[mod] = lo["scaling"]
        a = (torch.randn(lo["r"], w[1], generator=g) / lo["r"]).to(dev).requires_grad_(True)
        b = (torch.randn(w[0], lo["r"], generator=g) * 0.01).to(dev).requires_grad_(True)
        p[mod + ".lora_A"], p[mod + ".lora_B"] = a, b
        train += [a, b]
    B, T, A = spec["batch"], spec["torch_pi0"]["horizon"], spec["action_dim"]
    px, L = spec["image_size"], spec["tokens"]
    inp = {}
    for c in range(spec["cameras"]):
        inp[f"image{c}"] = (torch.rand(B, px, px, 3, generator=g) * 2 - 1).to(dev)
        inp[f"image_mask{c}"] = torch.ones(B, dtype=torch.bool, device=dev)
    inp["tokens"] = torch.randint(0, spec["vocab"], (B, L), generator=g).to(dev)
    inp["token_mask"] = torch.ones(B, L, dtype=torch.bool, device=dev)
    inp["state"] = (torch.rand(B, A, generator=g) * 2 - 1).to(dev)
    actions = (torch.rand(B, T, A, generator=g) * 2 - 1).to(dev)
    noise = torch.randn(B, T, A, generator=g).to(dev)
    t = torch.full((B,), 0.5).to(dev)
    c = spec["torch_pi0"]

    def step():
        for q in train:
            q.grad = None
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
            tt = t[:, None, None]
            x_t = tt * noise + (1 - tt) * actions
            v = torch_pi0.velocity(p, c, inp, x_t, t)
            loss = F.mse_loss(v.float(), noise - actions)
        loss.backward()
        return loss.item()  # synchronises

    losses, ms = [], []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        losses.append(step())
        if device == "cuda":
            torch.cuda.synchronize()
        if i > 0:
            ms.append(1000 * (time.perf_counter() - t0))
    out = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "config": spec["config"],
        "batch": B,
        "ms_per_step": sum(ms) / len(ms),
        "losses": losses,
        "peak_bytes": torch.cuda.max_memory_allocated() if device == "cuda" else None,
    }
    json.dump(out, open(out_path, "w"))
    print(f"torch {spec['config']} batch {B} on {out['device']}: {out['ms_per_step']:.1f} ms/step", file=sys.stderr)


if __name__ == "__main__":
    main()
