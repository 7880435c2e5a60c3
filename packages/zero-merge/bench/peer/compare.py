# Compares zero_to_fp32's output (a torch.save'd state dict, e.g. pytorch_model.bin) with a safetensors file
# (zero-merge's output, or a fixture's expected.safetensors), tensor by tensor: same names, dtypes, shapes and
# exactly the same bytes. Reads the .bin through run.py's torch.load(mmap=True) stand-in and the safetensors
# file with numpy.memmap, so GB-sized files are compared without loading them whole.
#
#   /usr/bin/python3 bench/peer/compare.py THEIRS.bin OURS.safetensors [OURS2.safetensors ...]
#
# Several safetensors files (zero-merge's shards) are compared as one state dict. Prints one JSON line;
# exit status 1 when anything differs.
import json
import os
import struct
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the shim's sys.path setup and the torch.load(mmap=True) stand-in)

torch = run.torch

ST_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def safetensors_entries(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, e in header.items():
        start, end = e["data_offsets"]
        out[name] = (path, e["dtype"], e["shape"], base + start, end - start)
    return out


def raw_bytes(t):
    t = t.contiguous().reshape(-1)
    return t.view(SAME_SIZE_INT[t.element_size()]).numpy().view(np.uint8)


def compare(theirs, ours_paths):
    """theirs: a state dict of torch tensors; ours_paths: safetensors files. Returns the result object."""
    ours = {}
    for p in ours_paths:
        ours.update(safetensors_entries(p))
    differ = []
    equal = 0
    nbytes = 0
    for name, t in theirs.items():
        if name not in ours:
            continue
        path, dtype, shape, offset, length = ours[name]
        if ST_DTYPES.get(dtype) != t.dtype or list(shape) != list(t.shape) or length != t.numel() * t.element_size():
            differ.append(f"{name}: theirs {t.dtype} {list(t.shape)}, ours {dtype} {shape}")
            continue
        mine = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(length,)) if length else b""
        if length and not np.array_equal(raw_bytes(t), mine):
            differ.append(f"{name}: bytes differ")
            continue
        equal += 1
        nbytes += length
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    return {
        "ok": not differ and not missing and not extra,
        "tensors": len(theirs),
        "equal": equal,
        "bytes": nbytes,
        "differ": differ[:20],
        "only_theirs": missing[:20],
        "only_ours": extra[:20],
    }


def main():
    theirs = torch.load(sys.argv[1], map_location="cpu", weights_only=False, mmap=True)
    result = compare(theirs, sys.argv[2:])
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
