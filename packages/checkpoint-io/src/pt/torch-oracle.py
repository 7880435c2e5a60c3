# Test oracle for torch-oracle.test.ts (run with Debian's /usr/bin/python3 + python3-torch).
#   run <dir> <out.json> [<file.pt> <weights_only 0|1>]...
#     torch.save tricky cases into <dir> (+ .json beside), then torch.load each file given and write JSON
#     descriptions of what torch loaded to <out.json> (one interpreter start: importing torch is slow).
import json
import math
import sys
from collections import OrderedDict

import torch


def desc(v):
    if isinstance(v, torch.Tensor):
        t = v.detach()
        if t.dtype in (torch.bfloat16, torch.float16):
            vals = t.float().flatten().tolist()
        elif t.dtype == torch.bool:
            vals = t.to(torch.uint8).flatten().tolist()
        elif t.dtype == torch.int64:
            vals = [str(x) if abs(x) > 2**53 - 1 else x for x in t.flatten().tolist()]
        else:
            vals = t.flatten().tolist()
        out = {"__tensor__": True, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": vals}
        if isinstance(v, torch.nn.Parameter):
            out["parameter"] = True
            out["requires_grad"] = v.requires_grad
        return out
    if isinstance(v, torch.Size):
        return {"__size__": list(v)}
    if isinstance(v, OrderedDict):
        return {"__dict__": [[desc(k), desc(x)] for k, x in v.items()], "ordered": True}
    if isinstance(v, dict):
        return {"__dict__": [[desc(k), desc(x)] for k, x in v.items()], "ordered": False}
    if isinstance(v, tuple):
        return {"__tuple__": [desc(x) for x in v]}
    if isinstance(v, list):
        return [desc(x) for x in v]
    if isinstance(v, torch.device):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return {"__bytes__": list(v)}
    if isinstance(v, (set, frozenset)):
        return {"__set__": sorted(desc(x) for x in v)}
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {"__bigint__": str(v)} if abs(v) > 2**53 - 1 else v
    if isinstance(v, float):
        if v == 0.0 and math.copysign(1.0, v) < 0:
            return {"__negzero__": True}
        return v
    raise TypeError(f"cannot describe {type(v)}")


def make(d):
    import os

    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    cases = {}
    special = torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0, 1e-45, 3.4e38])
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    cases["tricky"] = OrderedDict(
        special=special,
        special_bf16=special.to(torch.bfloat16),
        special_f16=torch.tensor([float("nan"), float("inf"), -0.0, 65504.0, 6e-8]).half(),
        big_int64=torch.tensor([2**62, -(2**63), 2**53 + 1], dtype=torch.int64),
        param=torch.nn.Parameter(torch.randn(2, 2, generator=g)),
        frozen_param=torch.nn.Parameter(torch.randn(2, generator=g), requires_grad=False),
        linear=lin.state_dict(),
        view_cols=base[:, 1:5:2],
        view_t=base.t()[2:],
        expand=torch.tensor([1.0, 2.0]).expand(3, 2),
        shared=(base, base[1]),
        device=torch.device("cpu"),
        bigint=2**70,
        neg_bigint=-(2**100),
        bytes_=b"\x00\xffabc",
        set_=set([1, 2, 3]),
        nested=[[[[{"deep": (1, (2, (3,)))}]]]],
        float_keys={1.5: "a", -2: "b", (1, 2): "c"},
    )
    for name, obj in cases.items():
        for proto in (2, 4, 5):
            torch.save(obj, f"{d}/{name}_p{proto}.pt", pickle_protocol=proto)
            with open(f"{d}/{name}_p{proto}.json", "w") as f:
                json.dump({"value": desc(obj), "legacy": False}, f)
        torch.save(obj, f"{d}/{name}_legacy.pt", _use_new_zipfile_serialization=False)
        with open(f"{d}/{name}_legacy.json", "w") as f:
            json.dump({"value": desc(obj), "legacy": True}, f)


def describe_files(out, rest):
    results = []
    for i in range(0, len(rest), 2):
        path, wo = rest[i], rest[i + 1] == "1"
        try:
            results.append({"ok": True, "value": desc(torch.load(path, weights_only=wo))})
        except Exception as e:  # reported; the test asserts on it
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "results": results}, f)


if __name__ == "__main__":
    assert sys.argv[1] == "run", "usage: torch-oracle.py run <dir> <out.json> [<file.pt> <0|1>]..."
    make(sys.argv[2])
    describe_files(sys.argv[3], sys.argv[4:])
