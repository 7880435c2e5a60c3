# Runs zero_to_fp32 (through run.py's shim) on several checkpoints in one interpreter and compares each output
# with the given safetensors files (compare.py): what src/zero-to-fp32.test.ts uses, one torch import for all.
#
#   /usr/bin/python3 bench/peer/check.py CASES.json
#
# CASES.json: [{"checkpoint": DIR, "output": DIR, "ours": [FILE.safetensors, ...], "exclude_frozen": bool}, ...]
# Prints a JSON list with compare.py's result object for each case (plus "error" if zero_to_fp32 raised).
import contextlib
import io
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import run  # noqa: E402

torch = run.torch


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    z = run._import_zero_to_fp32()
    results = []
    for case in cases:
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log):
                z.convert_zero_checkpoint_to_fp32_state_dict(
                    case["checkpoint"],
                    case["output"],
                    max_shard_size=None,
                    safe_serialization=False,
                    exclude_frozen_parameters=case.get("exclude_frozen", False),
                )
            theirs = torch.load(
                os.path.join(case["output"], "pytorch_model.bin"), map_location="cpu", weights_only=False, mmap=True
            )
            results.append(compare.compare(theirs, case["ours"]))
        except Exception as e:  # reported per case, with zero_to_fp32's own output
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}", "log": log.getvalue()[-2000:]})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
