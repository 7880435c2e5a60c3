"""A minimal transformers-equivalent Gemma causal LM (+ LoRA) in plain torch.

The correctness oracle and benchmark peer for @vla-lora/models. It reads safetensors without the
`safetensors` package (Debian's python3-torch has none) and follows transformers' modeling_gemma:
embedding * sqrt(hidden) in the model dtype, RMSNorm in fp32 with (1 + w), rotate_half RoPE,
grouped-query attention with head_dim^-0.5, gelu_tanh MLP, final norm, tied head.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

_DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + s : 8 + n + e], dtype=_DT[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    inv = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64", np.dtype(np.int32): "I32"}
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k].detach().cpu().numpy())
        b = a.tobytes()
        header[k] = {"dtype": inv[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Gemma(torch.nn.Module):
    """Parameters in a flat dict keyed by transformers names; LoRA as PEFT computes it."""

    def __init__(self, cfg, params, lora=None, scaling=1.0, dtype=torch.float32):
        super().__init__()
        self.cfg = cfg
        self.p = {k: v.to(dtype) for k, v in params.items()}
        self.lora = {k: v.to(dtype).detach().clone().requires_grad_(True) for k, v in (lora or {}).items()}
        self.scaling = scaling
        self.dtype = dtype

    def linear(self, x, name):
        y = x @ self.p[name + ".weight"].t()
        a = self.lora.get(name + ".lora_A.weight")
        if a is not None:
            y = y + (x @ a.t()) @ self.lora[name + ".lora_B.weight"].t() * self.scaling
        return y

    def norm(self, x, w):
        xf = x.float() if self.dtype == torch.float32 else x
        out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.cfg["rms_norm_eps"])
        return (out * (1.0 + w)).to(x.dtype)

    def forward(self, ids, attention_mask=None):
        c = self.cfg
        B, S = ids.shape
        H, KV, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        theta = c.get("rope_parameters", {}).get("rope_theta", c.get("rope_theta", 10000.0))
        emb = self.p["model.embed_tokens.weight"]
        x = emb[ids] * torch.tensor(c["hidden_size"] ** 0.5, dtype=self.dtype)
        inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).to(torch.float) / D))
        fr = (inv[None, :, None].float() @ torch.arange(S, dtype=torch.float)[None, None, :]).transpose(1, 2)
        e = torch.cat((fr, fr), dim=-1)
        cos, sin = e.cos().to(self.dtype)[:, None], e.sin().to(self.dtype)[:, None]

        def rot(t):
            return torch.cat((-t[..., D // 2 :], t[..., : D // 2]), dim=-1)

        mask = torch.full((S, S), float("-inf"), dtype=self.dtype).triu(1)[None, None]
        if attention_mask is not None:  # key padding, as transformers' causal mask + attention_mask
            mask = mask.masked_fill(attention_mask[:, None, None, :] == 0, float("-inf"))
        for i in range(c["num_hidden_layers"]):
            L = f"model.layers.{i}"
            h = self.norm(x, self.p[f"{L}.input_layernorm.weight"])
            q = self.linear(h, f"{L}.self_attn.q_proj").view(B, S, H, D).transpose(1, 2)
            k = self.linear(h, f"{L}.self_attn.k_proj").view(B, S, KV, D).transpose(1, 2)
            v = self.linear(h, f"{L}.self_attn.v_proj").view(B, S, KV, D).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
            w = (q @ k.transpose(2, 3)) * D**-0.5 + mask
            o = (F.softmax(w, dim=-1) @ v).transpose(1, 2).reshape(B, S, H * D)
            x = x + self.linear(o, f"{L}.self_attn.o_proj")
            h = self.norm(x, self.p[f"{L}.post_attention_layernorm.weight"])
            m = self.linear(F.gelu(self.linear(h, f"{L}.mlp.gate_proj"), approximate="tanh") * self.linear(h, f"{L}.mlp.up_proj"), f"{L}.mlp.down_proj")
            x = x + m
        x = self.norm(x, self.p["model.norm.weight"])
        return x @ emb.t()


def causal_lm_loss(logits, labels):
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)


def bench(cfg, batch, seq, rank, steps, threads):
    """forward + backward + AdamW step of Gemma + LoRA (r=rank on all 7 projections); ms per step."""
    import time

    torch.manual_seed(0)
    blas_threads = None
    if threads:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_blas import set_threads

        blas_threads = set_threads(threads)
    H, KV, D, W, M, V = (cfg[k] for k in ("num_attention_heads", "num_key_value_heads", "head_dim", "hidden_size", "intermediate_size", "vocab_size"))
    p = {"model.embed_tokens.weight": torch.randn(V, W) * 0.02, "model.norm.weight": torch.zeros(W)}
    lora = {}
    shapes = {"self_attn.q_proj": (H * D, W), "self_attn.k_proj": (KV * D, W), "self_attn.v_proj": (KV * D, W), "self_attn.o_proj": (W, H * D), "mlp.gate_proj": (M, W), "mlp.up_proj": (M, W), "mlp.down_proj": (W, M)}
    for i in range(cfg["num_hidden_layers"]):
        for n, (o, inn) in shapes.items():
            p[f"model.layers.{i}.{n}.weight"] = torch.randn(o, inn) / math.sqrt(inn)
            lora[f"model.layers.{i}.{n}.lora_A.weight"] = torch.randn(rank, inn) / math.sqrt(inn)
            lora[f"model.layers.{i}.{n}.lora_B.weight"] = torch.randn(o, rank) * 0.01
        p[f"model.layers.{i}.input_layernorm.weight"] = torch.zeros(W)
        p[f"model.layers.{i}.post_attention_layernorm.weight"] = torch.zeros(W)
    m = Gemma(cfg, p, lora, 2.0)
    opt = torch.optim.AdamW(list(m.lora.values()), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)
    ids = torch.randint(0, V, (batch, seq))
    times, cpu = [], []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = causal_lm_loss(m(ids), ids)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return times[1:], cpu[1:], blas_threads


def grads(cfg_path, weights_path, inputs_path, out_path):
    """Full fine-tuning reference: loss and the gradient of every parameter (tied head included)."""
    cfg = json.load(open(cfg_path))
    params = {k: v.float().clone().requires_grad_(True) for k, v in read_safetensors(weights_path).items()}
    inp = read_safetensors(inputs_path)
    m = Gemma(cfg, {})
    m.p = params
    logits = m(inp["input_ids"].long(), inp["attention_mask"].long())
    loss = causal_lm_loss(logits, inp["labels"].long())
    loss.backward()
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for k, v in params.items():
        out["grad." + k] = v.grad
    write_safetensors(out_path, out)


if __name__ == "__main__":
    if sys.argv[1] == "grads":
        grads(*sys.argv[2:6])
    else:
        args = json.loads(sys.argv[1])
        t, c, blas_threads = bench(args["config"], args["batch"], args["seq"], args["rank"], args["steps"], args.get("threads"))
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_blas import blas_info

        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blasThreads": blas_threads, "blas": blas_info(), "msPerStep": t, "cpuMsPerStep": c}))
