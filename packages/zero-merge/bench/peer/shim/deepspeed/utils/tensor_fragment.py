# deepspeed/utils/tensor_fragment.py's fragment_address (pickled in ZeRO-1/2 optimizer states as
# param_slice_mappings values), as DeepSpeed defines it.
from dataclasses import dataclass


@dataclass
class fragment_address:
    numel: int
    start: int
