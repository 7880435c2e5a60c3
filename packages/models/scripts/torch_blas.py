"""Which BLAS Debian's torch really calls, for the benchmarks' headers.

Debian's python3-torch is built with BLAS_INFO=generic: it links `libblas.so.3`, which Debian's
alternatives resolve to the reference BLAS (libblas3) or, once `libopenblas0-pthread` is installed,
to OpenBLAS (`apt-get install libopenblas0-pthread`: a 1024^2 matmul goes from ~3.5 to ~150 GFLOP/s on
2 threads). blas_info() runs one matmul (so the library is loaded) and reads which `libblas`/`openblas`
files this process mapped (/proc/self/maps), beside torch's build line and the alternative's target.
"""
import ctypes
import os
import re

import torch


def _mapped(pattern):
    """Paths of the libraries this process mapped whose file name matches `pattern`, after one matmul
    (torch loads libblas.so.3 lazily)."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    mapped = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and re.search(pattern, os.path.basename(parts[-1])) and parts[-1] not in mapped:
                mapped.append(parts[-1])
    return mapped


def blas_info():
    try:
        mapped = {os.path.realpath(p) for p in _mapped(r"blas|lapack|mkl")}
    except OSError:  # no /proc: the header then names the alternative's target only
        mapped = set()
    build = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    alt = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    alternative = os.path.realpath(alt) if os.path.exists(alt) else None
    names = " ".join(sorted(mapped)) + " " + (alternative or "")
    kind = "OpenBLAS" if "openblas" in names.lower() else "MKL" if "mkl" in names.lower() else "reference BLAS" if "libblas" in names else "unknown"
    return {
        "kind": kind,
        "build": build.group(1) if build else None,
        "loaded": sorted(mapped),
        "alternative": alternative,
    }


def _mapped_openblas():
    """The OpenBLAS this process mapped, or None."""
    for path in _mapped(r"blas"):
        lib = ctypes.CDLL(path)
        if hasattr(lib, "openblas_set_num_threads"):
            return lib
    return None


def set_threads(n):
    """torch.set_num_threads(n) and the same for OpenBLAS's own thread pool.

    Debian's torch is built with BLAS_INFO=generic, so torch.set_num_threads does not reach OpenBLAS,
    which keeps one thread per core: a "1 thread" torch run would still multiply on every core.
    Returns the BLAS thread count read back (None when the BLAS is not OpenBLAS)."""
    torch.set_num_threads(n)
    lib = _mapped_openblas()
    if lib is None:
        return None
    lib.openblas_set_num_threads(n)
    return lib.openblas_get_num_threads()


if __name__ == "__main__":
    import json

    print(json.dumps(blas_info()))
