"""PEFT-style LoRA on torch_pi0.py's linear layers, shared by torch_pi0_lora_step.py and pi0's
bench/torch_pi0_step.py. Importing this module replaces torch_pi0.lin (torch_pi0's functions look
`lin` up in their module at call time) by PEFT's lora.Linear with dropout 0:
base(x) + scaling * (x A^T) B^T wherever the parameter dict holds `<name>.lora_A` / `<name>.lora_B`.
Fill SCALING (module name -> lora scaling) before the first forward.
"""
import torch_pi0

# pi0's five projection heads: trained in full next to the LoRA tensors (the pi0_lora freeze policy)
HEADS = ("state_proj", "action_in_proj", "action_out_proj", "action_time_mlp_in", "action_time_mlp_out")
SCALING = {}

_base_lin = torch_pi0.lin


def lora_lin(p, name, x):
    y = _base_lin(p, name, x)
    a = p.get(name + ".lora_A")
    if a is None:
        return y
    return y + SCALING[name] * ((x @ a.t()) @ p[name + ".lora_B"].t())


torch_pi0.lin = lora_lin
