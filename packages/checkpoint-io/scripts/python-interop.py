# Loads what scripts/python-interop.ts wrote with Python's safetensors (+ torch), checks values,
# and re-saves the torch-loadable tensors with safetensors.torch.save_file for a byte comparison.
import json, sys, torch
from safetensors import safe_open
from safetensors.torch import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/interop"
t = {}
with safe_open(f"{out}/all.safetensors", "pt") as f:
    meta = f.metadata()
    for k in f.keys():
        try:
            t[k] = f.get_tensor(k)
        except AttributeError:
            pass  # torch < 2.3 lacks uint16/32/64 and float8
with safe_open(f"{out}/all.safetensors", "np") as f:
    for k in ["t_U16", "t_U32", "t_U64"]:
        a = f.get_tensor(k)
        assert a.shape == (2, 3), k
print("metadata", meta, "| torch", torch.__version__, "loaded", len(t), "tensors; numpy loaded U16/U32/U64")
assert t["conv_BF16"].float().tolist() == [0.10009765625, -2.5, 3.140625, 0.00099945068359375, 65536.0, -0.0]
assert t["conv_F16"].float().tolist() == [0.0999755859375, -2.5, 3.140625, 0.0010004043579101562, 65504.0, -0.0]
save_file(t, f"{out}/python-resaved.safetensors", metadata=meta)
idx = json.load(open(f"{out}/sharded/model.safetensors.index.json"))
n = 0
for k, fname in idx["weight_map"].items():
    if k in t:
        with safe_open(f"{out}/sharded/{fname}", "pt") as g:
            assert torch.equal(g.get_tensor(k), t[k]), k
            n += 1
print(f"sharded: {len(set(idx['weight_map'].values()))} shards, total_size {idx['metadata']['total_size']}, {n} tensors equal")
print(f"python re-saved the torch-loadable tensors to {out}/python-resaved.safetensors")
