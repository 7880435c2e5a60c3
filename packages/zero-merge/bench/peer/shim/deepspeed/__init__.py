# Stand-in for the `deepspeed` package: only what bench/peer/zero_to_fp32.py imports and what DeepSpeed's
# checkpoints pickle (see ../../README.md). DeepSpeed itself is not installable here (no pip).
