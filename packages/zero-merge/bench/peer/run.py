# Runs DeepSpeed's zero_to_fp32.py (vendored unmodified beside this file) with Debian's /usr/bin/python3 and
# python3-torch 1.13, as the peer of zero-merge's benchmark and tests:
#
#   /usr/bin/python3 bench/peer/run.py CHECKPOINT_DIR OUTPUT_DIR [--tag TAG] [--exclude-frozen]
#                                      [--load mmap|eager] [--fsync] [--split] [--json FILE]
#
# It calls the script's own convert_zero_checkpoint_to_fp32_state_dict(checkpoint_dir, output_dir,
# max_shard_size=None, safe_serialization=False, tag, exclude_frozen_parameters): one torch.save'd
# OUTPUT_DIR/pytorch_model.bin, what `python zero_to_fp32.py CHECKPOINT_DIR OUTPUT_DIR` writes for an output
# under its default 5GB shard size (its command line needs huggingface_hub for the shard plan, and
# --safe_serialization the safetensors package: neither is a Debian package).
#
# What is around the script, and why:
# - shim/deepspeed: what it imports (logger; checkpoint/constants.py copied verbatim from the same DeepSpeed
#   commit) and the classes DeepSpeed pickles into checkpoints (ZeroStageEnum, LossScaler, fragment_address).
# - fallback/tqdm: a pass-through tqdm, used only where python3-tqdm is not installed.
# - torch.load(mmap=True): zero_to_fp32 loads each optimizer file with mmap=True (torch >= 2.1). torch 1.13
#   has no such argument, so `--load mmap` (default) does what torch 2.1's does: one MAP_PRIVATE mapping of
#   the file (torch.UntypedStorage.from_file(path, shared=False)), each storage a view of it at its zip
#   record's offset, unpickled by torch 1.13's own serialization._load. Only the pages of the tensors it
#   touches (fp32 partitions, not exp_avg / exp_avg_sq) are ever read. `--load eager` drops the argument
#   instead: torch 1.13 then reads every storage of the file into memory (as torch < 2.1 would).
#
# --split runs, instead of that function, the three steps it takes for this output, timed apart: the lazy
# state dict (get_fp32_state_dict_from_zero_checkpoint(lazy_mode=True): every rank file loaded, frozen params
# concatenated), to_torch_tensor (trainable params gathered), torch.save.
#
# Prints (and with --json writes) one JSON object: the phases' wall seconds, this process's CPU seconds,
# peak RSS (VmHWM) and the peaks of its anonymous and file-backed parts (sampled every 20 ms).
import argparse
import json
import os
import pickle
import resource
import struct
import sys
import threading
import time
import zipfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
T_START = time.perf_counter()
sys.path.insert(0, os.path.join(HERE, "shim"))
try:
    import tqdm  # noqa: F401  (Debian's python3-tqdm when installed)
except ImportError:
    sys.path.append(os.path.join(HERE, "fallback"))

import torch  # noqa: E402
import torch.serialization  # noqa: E402


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class _Peaks(threading.Thread):
    """Peak RssAnon / RssFile of this process, sampled (VmHWM has only their sum)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.anon = 0
        self.file = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.02):
            self.sample()

    def sample(self):
        self.anon = max(self.anon, _status_kb("RssAnon"))
        self.file = max(self.file, _status_kb("RssFile") + _status_kb("RssShmem"))


class _Record:
    """What serialization._load calls `.storage().untyped()` on."""

    def __init__(self, untyped):
        self._untyped = untyped

    def storage(self):
        return self

    def untyped(self):
        return self._untyped


class _MmapZip:
    """The PyTorchFileReader calls serialization._load makes, every storage a view of one mapping of the file."""

    def __init__(self, path):
        path = os.fspath(path)
        self._zip = zipfile.ZipFile(path)
        self._infos = {i.filename: i for i in self._zip.infolist()}
        first = self._zip.infolist()[0].filename
        if "/" not in first:
            raise ValueError(f"{path}: not a torch zip checkpoint (no archive folder)")
        self._prefix = first.split("/", 1)[0] + "/"
        self._whole = torch.UntypedStorage.from_file(path, False, os.path.getsize(path))

    def _info(self, name):
        info = self._infos.get(self._prefix + name)
        if info is None:
            raise KeyError(f"no record {name}")
        return info

    def get_record(self, name):
        return self._zip.read(self._info(name))

    def get_all_records(self):
        return [n[len(self._prefix) :] for n in self._infos if n.startswith(self._prefix)]

    def get_storage_from_record(self, name, nbytes, _storage_type):
        info = self._info(name)
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != nbytes:
            raise ValueError(f"record {name}: compressed or {info.file_size} bytes, expected {nbytes} stored")
        self._zip.fp.seek(info.header_offset)
        local = self._zip.fp.read(30)
        if local[:4] != b"PK\x03\x04":
            raise ValueError(f"record {name}: bad local header")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if start + nbytes > self._whole.nbytes():
            raise ValueError(f"record {name} runs past the end of the file")
        return _Record(self._whole[start : start + nbytes])


LOAD_MODE = "mmap"
_torch_load = torch.load


def _load(f, map_location=None, pickle_module=None, *, weights_only=False, mmap=None, **pickle_load_args):
    if mmap and LOAD_MODE == "mmap":
        if weights_only or pickle_module not in (None, pickle):
            raise ValueError("the mmap stand-in supports weights_only=False with the default pickle module only")
        pickle_load_args.setdefault("encoding", "utf-8")
        return torch.serialization._load(_MmapZip(f), map_location, pickle, **pickle_load_args)
    return _torch_load(f, map_location, pickle_module, weights_only=weights_only, **pickle_load_args)


torch.load = _load


def _import_zero_to_fp32():
    import importlib.util

    spec = importlib.util.spec_from_file_location("zero_to_fp32", os.path.join(HERE, "zero_to_fp32.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    global LOAD_MODE
    ap = argparse.ArgumentParser(description="DeepSpeed's zero_to_fp32 (vendored) on Debian's torch 1.13")
    ap.add_argument("checkpoint_dir")
    ap.add_argument("output_dir")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--exclude-frozen", action="store_true")
    ap.add_argument("--load", choices=["mmap", "eager"], default="mmap")
    ap.add_argument("--fsync", action="store_true", help="fsync the output file(s) afterwards (timed apart)")
    ap.add_argument("--split", action="store_true", help="time load / gather / torch.save apart")
    ap.add_argument("--json", default=None, help="also write the result object to this file")
    args = ap.parse_args()
    LOAD_MODE = args.load

    peaks = _Peaks()
    peaks.start()
    t_import = time.perf_counter()
    z = _import_zero_to_fp32()
    split = {}
    t0 = time.perf_counter()
    if args.split:
        # what convert_zero_checkpoint_to_fp32_state_dict does with max_shard_size=None, safe_serialization=False
        state_dict = z.get_fp32_state_dict_from_zero_checkpoint(
            args.checkpoint_dir, args.tag, args.exclude_frozen, lazy_mode=True
        )
        ta = time.perf_counter()
        tensors = z.to_torch_tensor(state_dict)
        tb = time.perf_counter()
        os.makedirs(args.output_dir, exist_ok=True)
        torch.save(tensors, os.path.join(args.output_dir, "pytorch_model.bin"))
        del tensors, state_dict
        split = {
            "load_s": round(ta - t0, 3),
            "gather_s": round(tb - ta, 3),
            "save_s": round(time.perf_counter() - tb, 3),
        }
    else:
        z.convert_zero_checkpoint_to_fp32_state_dict(
            args.checkpoint_dir,
            args.output_dir,
            max_shard_size=None,
            safe_serialization=False,
            tag=args.tag,
            exclude_frozen_parameters=args.exclude_frozen,
        )
    t1 = time.perf_counter()
    files = sorted(os.path.join(args.output_dir, f) for f in os.listdir(args.output_dir))
    fsync_s = 0.0
    if args.fsync:
        for path in files:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_s = time.perf_counter() - t1
    peaks.sample()
    peaks.stop.set()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "tool": "zero_to_fp32",
        "torch": torch.__version__,
        "load": args.load,
        "files": files,
        "bytes": sum(os.path.getsize(p) for p in files),
        "startup_s": round(t_import - T_START, 3),
        "convert_s": round(t1 - t0, 3),
        **split,
        "fsync_s": round(fsync_s, 3),
        "user_s": round(ru.ru_utime, 3),
        "system_s": round(ru.ru_stime, 3),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
        "peak_anon_mb": round(peaks.anon / 1024, 1),
        "peak_file_mb": round(peaks.file / 1024, 1),
    }
    text = json.dumps(result)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
