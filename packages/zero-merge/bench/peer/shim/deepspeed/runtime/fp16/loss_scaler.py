# deepspeed/runtime/fp16/loss_scaler.py's loss scalers (pickled as optimizer_state_dict.loss_scaler). Unpickling
# restores their __dict__ (NEWOBJ + BUILD); DeepSpeed's __init__ and methods are never called by zero_to_fp32.


class LossScalerBase:
    pass


class LossScaler(LossScalerBase):
    pass


class DynamicLossScaler(LossScalerBase):
    pass
