# Ground truth for loading adapter_model.bin, made by torch (not by this package):
#   PYTHONPATH=<safetensors wheel dir> /usr/bin/python3 packages/checkpoint-io/scripts/make-adapter-bin.py
# torch.save()s the tensors of fixtures/peft-tiny-gemma/adapter/adapter_model.safetensors as PEFT
# does when safe_serialization=False (an OrderedDict state dict in torch's zip format).
import collections, torch
from safetensors.torch import load_file

sd = load_file("fixtures/peft-tiny-gemma/adapter/adapter_model.safetensors")
torch.save(collections.OrderedDict(sorted(sd.items())), "packages/checkpoint-io/test-data/adapter_model.bin")
print("saved", len(sd), "tensors with torch", torch.__version__)
