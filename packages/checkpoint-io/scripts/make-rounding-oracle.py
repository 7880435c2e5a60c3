# Ground truth for the dtype tests, made by torch (not by this package):
#   PYTHONPATH=<safetensors wheel dir> /usr/bin/python3 packages/checkpoint-io/scripts/make-rounding-oracle.py
# writes packages/checkpoint-io/test-data/torch-rounding.safetensors with float32 inputs (random bit
# patterns, ties, subnormals, overflow, NaN/Inf) and torch's .bfloat16() / .half() of them.
import numpy as np, torch
from safetensors.torch import save_file

rng = np.random.default_rng(0)
bits = rng.integers(0, 2**32, size=12000, dtype=np.uint64).astype(np.uint32)
# values near the float16 range and its subnormals, where rounding is subtle
near = (rng.standard_normal(4000) * np.exp2(rng.integers(-26, 17, size=4000))).astype(np.float32)
special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519, 65520, 2**-24, 2**-25, 3 * 2**-25,
                    1 + 2**-11, 1 + 3 * 2**-11, 1 + 2**-8, 1 + 3 * 2**-8, 3.4028235e38, 1e-40], dtype=np.float32)
x = np.concatenate([bits.view(np.float32), near, special])
t = torch.from_numpy(x.copy())
save_file({
    "f32": t,
    "bf16": t.bfloat16(),
    "f16": t.half(),
}, "packages/checkpoint-io/test-data/torch-rounding.safetensors", metadata={"torch": torch.__version__})
print("wrote", x.size, "values with torch", torch.__version__)
