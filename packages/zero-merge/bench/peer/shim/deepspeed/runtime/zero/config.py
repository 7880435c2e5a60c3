# deepspeed/runtime/zero/config.py's ZeroStageEnum (pickled as optimizer_state_dict.zero_stage), its members
# as DeepSpeed defines them. The rest of that module (pydantic config models) is not needed to unpickle.
from enum import Enum


class ZeroStageEnum(int, Enum):
    """ Enum class for possible zero stages """
    disabled = 0
    optimizer_states = 1
    gradients = 2
    weights = 3
    max_stage = 3
