"""The torch side of bench/pi0-step-vs-torch.ts: the same pi0_libero_lora_tiny training step in plain
torch (packages/models/scripts/torch_pi0.py, openpi's pi0 math) with PEFT-style LoRA added to `lin`.

usage: torch_pi0_step.py DIR STEPS WARMUP THREADS(comma list)
DIR (written by the TS side): base.safetensors (savePi0Weights, LoRA-wrapped layers under
`.base_layer.`), lora.safetensors (`X.lora_A.default.weight` / `X.lora_B.default.weight`),
trained.safetensors (our optimized tensors after our steps), inputs.safetensors (batch, noise, time,
as models' torch-oracle test lays them out), config.json (torch_pi0's config + LoRA scalings by module,
the optimized tensor names, AdamW/clip hyper-parameters under "optim"). Writes DIR/out.json.
Debian's torch calls libblas.so.3 (OpenBLAS once libopenblas0-pthread is installed); out.json names it.
"""
import json
import os
import re
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "scripts"))
import torch_pi0  # noqa: E402
from torch_blas import blas_info, set_threads  # noqa: E402
from torch_gemma import read_safetensors  # noqa: E402
from torch_pi0_lora import HEADS, SCALING  # noqa: E402  (and PEFT's lora.Linear on torch_pi0.lin)

LORA_KEY = re.compile(r"^(.*)\.lora_([AB])\.[^.]+\.weight$")


def our_name(k):
    """torch_pi0's dict key -> our (PEFT) parameter name."""
    m = re.match(r"^(.*)\.lora_([AB])$", k)
    if m:
        return f"{m.group(1)}.lora_{m.group(2)}.default.weight"
    return k


def load_params(d):
    p = {}
    for k, v in read_safetensors(os.path.join(d, "base.safetensors")).items():
        p[k.replace(".base_layer.", ".")] = v.float().contiguous()
    for k, v in read_safetensors(os.path.join(d, "lora.safetensors")).items():
        m = LORA_KEY.match(k)
        assert m, k
        p[f"{m.group(1)}.lora_{m.group(2)}"] = v.float().contiguous()
    return p


def trainable_keys(p):
    """LoRA tensors + the five projection heads (the pi0_lora freeze policy)."""
    return [k for k in p if k.endswith((".lora_A", ".lora_B")) or k.split(".")[0] in HEADS]


def loss_fn(p, c, inp):
    t = inp["time"]
    tt = t[:, None, None]
    x_t = tt * inp["noise"] + (1 - tt) * inp["actions"]
    u_t = inp["noise"] - inp["actions"]
    return F.mse_loss(torch_pi0.velocity(p, c, inp, x_t, t), u_t)


def main():
    d, steps, warmup, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(x) for x in sys.argv[4].split(",")]
    c = json.load(open(os.path.join(d, "config.json")))
    SCALING.update(c["scalings"])
    inp = read_safetensors(os.path.join(d, "inputs.safetensors"))
    base = load_params(d)

    # the trainable set the TS side optimises must be LoRA + heads minus those without a gradient
    train = trainable_keys(base)
    optimized = set(c["optimized"])
    ours = {our_name(k) for k in train}
    assert optimized <= ours, f"TS optimises tensors that are not LoRA/heads here: {sorted(optimized - ours)[:5]}"
    assert set(SCALING) == {k[: -len(".lora_A")] for k in base if k.endswith(".lora_A")}, "LoRA modules differ from the scalings"

    with torch.no_grad():
        loss_init = loss_fn(base, c, inp).item()
        p = dict(base)
        for k, v in read_safetensors(os.path.join(d, "trained.safetensors")).items():
            m = LORA_KEY.match(k)
            p[f"{m.group(1)}.lora_{m.group(2)}" if m else k] = v.float()
        loss_trained = loss_fn(p, c, inp).item()

    runs = []
    for n in threads:
        blas_threads = set_threads(n)
        p = {k: v.clone() for k, v in base.items()}
        params = []
        for k in train:
            p[k].requires_grad_(True)
            if our_name(k) in optimized:
                params.append(p[k])
        o = c["optim"]
        opt = torch.optim.AdamW(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weightDecay"])
        losses = []
        total = 0.0
        cpu = 0.0
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            c0 = time.process_time()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(p, c, inp)
            loss.backward()
            losses.append(loss.item())
            torch.nn.utils.clip_grad_norm_(params, o["maxNorm"])
            opt.step()
            if i >= warmup:
                total += time.perf_counter() - t0
                cpu += time.process_time() - c0
        runs.append({"threads": n, "blas_threads": blas_threads, "ms_per_step": 1000 * total / steps, "cpu_ms_per_step": 1000 * cpu / steps, "losses": losses})
        print(f"torch {n} thread(s): {1000 * total / steps:.1f} ms/step", file=sys.stderr)

    with open(os.path.join(d, "out.json"), "w") as f:
        json.dump({"torch": torch.__version__, "blas": blas_info(), "loss_init": loss_init, "loss_trained": loss_trained, "runs": runs}, f)


if __name__ == "__main__":
    main()
