"""openpi's PI0Pytorch forward (training loss) and sample_actions in plain torch: the oracle for
@vla-lora/models' Pi0Policy. Written from openpi's pi0_pytorch.py / gemma_pytorch.py and
transformers' SigLIP / Gemma code (eager attention, float32), without openpi or transformers.

usage: torch_pi0.py weights.safetensors inputs.safetensors config.json out.safetensors
config.json: {"heads": H, "kv_heads": KV, "head_dim": D, "depth": L, "siglip_heads": h, "patch": P,
              "horizon": T, "num_steps": n, "eps": 1e-6, "theta": 10000}
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_gemma import read_safetensors, write_safetensors  # noqa: E402

PW = "paligemma_with_expert"
VT = f"{PW}.paligemma.model.vision_tower.vision_model"
LM = f"{PW}.paligemma.model.language_model"
EX = f"{PW}.gemma_expert.model"


def lin(p, name, x):
    y = x @ p[name + ".weight"].t()
    b = p.get(name + ".bias")
    return y if b is None else y + b


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w)


def siglip(p, c, images_nhwc):
    x = images_nhwc.permute(0, 3, 1, 2)
    x = F.conv2d(x, p[f"{VT}.embeddings.patch_embedding.weight"], p[f"{VT}.embeddings.patch_embedding.bias"], stride=c["patch"])
    x = x.flatten(2).transpose(1, 2) + p[f"{VT}.embeddings.position_embedding.weight"][None]
    B, N, W = x.shape
    h = c["siglip_heads"]
    d = W // h
    i = 0
    while f"{VT}.encoder.layers.{i}.layer_norm1.weight" in p:
        L = f"{VT}.encoder.layers.{i}"
        y = F.layer_norm(x, (W,), p[f"{L}.layer_norm1.weight"], p[f"{L}.layer_norm1.bias"], 1e-6)
        q, k, v = (lin(p, f"{L}.self_attn.{n}_proj", y).view(B, N, h, d).transpose(1, 2) for n in "qkv")
        a = F.softmax((q @ k.transpose(2, 3)) * d**-0.5, dim=-1, dtype=torch.float32) @ v
        x = x + lin(p, f"{L}.self_attn.out_proj", a.transpose(1, 2).reshape(B, N, W))
        y = F.layer_norm(x, (W,), p[f"{L}.layer_norm2.weight"], p[f"{L}.layer_norm2.bias"], 1e-6)
        x = x + lin(p, f"{L}.mlp.fc2", F.gelu(lin(p, f"{L}.mlp.fc1", y), approximate="tanh"))
        i += 1
    return F.layer_norm(x, (W,), p[f"{VT}.post_layernorm.weight"], p[f"{VT}.post_layernorm.bias"], 1e-6)


def rope(c, pos):
    D = c["head_dim"]
    inv = 1.0 / (c["theta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    fr = (inv[None, :, None].expand(pos.shape[0], -1, 1) @ pos[:, None, :].float()).transpose(1, 2)
    e = torch.cat((fr, fr), dim=-1)
    return e.cos()[:, None], e.sin()[:, None]


def rot(t):
    D = t.shape[-1]
    return torch.cat((-t[..., D // 2 :], t[..., : D // 2]), dim=-1)


def make_att_2d_masks(pad, ar):
    cs = torch.cumsum(ar, dim=1)
    return (cs[:, None, :] <= cs[:, :, None]) & (pad[:, None, :] * pad[:, :, None]).bool()


def attend(c, q, k, v, mask4):
    H, KV, D = c["heads"], c["kv_heads"], c["head_dim"]
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    w = (q @ k.transpose(2, 3)) * D**-0.5 + mask4
    return F.softmax(w, dim=-1, dtype=torch.float32) @ v  # [B, H, S, D]


def layer_qkv(p, c, stack, i, x, cos, sin):
    B, S, _ = x.shape
    L = f"{stack}.layers.{i}"
    h = rms(x, p[f"{L}.input_layernorm.weight"], c["eps"])
    q = lin(p, f"{L}.self_attn.q_proj", h).view(B, S, -1, c["head_dim"]).transpose(1, 2)
    k = lin(p, f"{L}.self_attn.k_proj", h).view(B, S, -1, c["head_dim"]).transpose(1, 2)
    v = lin(p, f"{L}.self_attn.v_proj", h).view(B, S, -1, c["head_dim"]).transpose(1, 2)
    return q * cos + rot(q) * sin, k * cos + rot(k) * sin, v


def layer_finish(p, c, stack, i, x, att):
    L = f"{stack}.layers.{i}"
    x = x + lin(p, f"{L}.self_attn.o_proj", att)
    h = rms(x, p[f"{L}.post_attention_layernorm.weight"], c["eps"])
    return x + lin(p, f"{L}.mlp.down_proj", F.gelu(lin(p, f"{L}.mlp.gate_proj", h), approximate="tanh") * lin(p, f"{L}.mlp.up_proj", h))


def sincos(t, dim):
    fraction = torch.linspace(0.0, 1.0, dim // 2, dtype=torch.float64)
    period = 4e-3 * (4.0 / 4e-3) ** fraction
    s = (1.0 / period * 2 * math.pi)[None, :] * t.double()[:, None]
    return torch.cat([torch.sin(s), torch.cos(s)], dim=1).float()


def embed_prefix(p, c, inp):
    embs, pads = [], []
    cams = 0
    while f"image{cams}" in inp:
        e = lin(p, f"{PW}.paligemma.model.multi_modal_projector.linear", siglip(p, c, inp[f"image{cams}"]))
        embs.append(e)
        pads.append(inp[f"image_mask{cams}"].bool()[:, None].expand(e.shape[0], e.shape[1]))
        cams += 1
    tok = p[f"{LM}.embed_tokens.weight"][inp["tokens"].long()]
    embs.append(tok * math.sqrt(tok.shape[-1]))
    pads.append(inp["token_mask"].bool())
    embs, pads = torch.cat(embs, 1), torch.cat(pads, 1)
    return embs, pads, torch.zeros_like(pads, dtype=torch.int64)


def embed_suffix(p, c, state, x_t, t):
    B, T, _ = x_t.shape
    st = lin(p, "state_proj", state)[:, None]
    a = lin(p, "action_in_proj", x_t)
    te = sincos(t, a.shape[-1])[:, None].expand_as(a)
    at = lin(p, "action_time_mlp_out", F.silu(lin(p, "action_time_mlp_in", torch.cat([a, te], dim=2))))
    ar = torch.tensor([1, 1] + [0] * (T - 1))[None].expand(B, T + 1)
    return torch.cat([st, at], 1), torch.ones(B, T + 1, dtype=torch.bool), ar


def mask4(m):
    return torch.where(m[:, None], 0.0, -2.3819763e38)


def velocity(p, c, inp, x_t, t):
    pe, pp, pa = embed_prefix(p, c, inp)
    se, sp, sa = embed_suffix(p, c, inp["state"], x_t, t)
    pad, ar = torch.cat([pp, sp], 1), torch.cat([pa, sa], 1)
    m4 = mask4(make_att_2d_masks(pad, ar))
    cos, sin = rope(c, torch.cumsum(pad, dim=1) - 1)
    Sp = pe.shape[1]
    xp, xs = pe, se
    B = xp.shape[0]
    for i in range(c["depth"]):
        qp, kp, vp = layer_qkv(p, c, LM, i, xp, cos[:, :, :Sp], sin[:, :, :Sp])
        qs, ks, vs = layer_qkv(p, c, EX, i, xs, cos[:, :, Sp:], sin[:, :, Sp:])
        att = attend(c, torch.cat([qp, qs], 2), torch.cat([kp, ks], 2), torch.cat([vp, vs], 2), m4)
        att = att.transpose(1, 2).reshape(B, att.shape[2], -1)
        xp = layer_finish(p, c, LM, i, xp, att[:, :Sp])
        xs = layer_finish(p, c, EX, i, xs, att[:, Sp:])
    out = rms(xs, p[f"{EX}.norm.weight"], c["eps"])[:, -c["horizon"] :]
    return lin(p, "action_out_proj", out)


def sample(p, c, inp, noise):
    pe, pp, pa = embed_prefix(p, c, inp)
    m4 = mask4(make_att_2d_masks(pp, pa))
    cos, sin = rope(c, torch.cumsum(pp, dim=1) - 1)
    cache = []
    x = pe
    B = x.shape[0]
    for i in range(c["depth"]):
        q, k, v = layer_qkv(p, c, LM, i, x, cos, sin)
        cache.append((k, v))
        a = attend(c, q, k, v, m4)
        x = layer_finish(p, c, LM, i, x, a.transpose(1, 2).reshape(B, a.shape[2], -1))
    offsets = pp.sum(-1)[:, None]
    dt = torch.tensor(-1.0 / c["num_steps"], dtype=torch.float32)
    x_t = noise
    time = torch.tensor(1.0, dtype=torch.float32)
    while time >= -dt / 2:
        se, sp, sa = embed_suffix(p, c, inp["state"], x_t, time.expand(B))
        full = torch.cat([pp[:, None, :].expand(B, sp.shape[1], pp.shape[1]), make_att_2d_masks(sp, sa)], dim=2)
        scos, ssin = rope(c, offsets + torch.cumsum(sp, dim=1) - 1)
        xs = se
        for i in range(c["depth"]):
            q, k, v = layer_qkv(p, c, EX, i, xs, scos, ssin)
            a = attend(c, q, torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2), mask4(full))
            xs = layer_finish(p, c, EX, i, xs, a.transpose(1, 2).reshape(B, a.shape[2], -1))
        out = rms(xs, p[f"{EX}.norm.weight"], c["eps"])[:, -c["horizon"] :]
        x_t = x_t + dt * lin(p, "action_out_proj", out)
        time += dt
    return x_t


if __name__ == "__main__":
    weights, inputs, cfg_path, out_path = sys.argv[1:5]
    p = {k: v.float() for k, v in read_safetensors(weights).items()}
    inp = read_safetensors(inputs)
    c = json.load(open(cfg_path))
    with torch.no_grad():
        t = inp["time"]
        tt = t[:, None, None]
        x_t = tt * inp["noise"] + (1 - tt) * inp["actions"]
        u_t = inp["noise"] - inp["actions"]
        loss = F.mse_loss(u_t, velocity(p, c, inp, x_t, t), reduction="none")
        actions = sample(p, c, inp, inp["noise"])
    write_safetensors(out_path, {"loss": loss, "sampled": actions})
