"""Writes a damaged copy of a torch.distributed.checkpoint .metadata for dcp-merge's bad-input tests.

Runs with plain Python (no torch): the DCP classes are loaded as stand-ins registered under their real module
names, so the re-pickled file names exactly the globals PyTorch wrote. Usage:
  /usr/bin/python3 mutate-metadata.py IN OUT overlap|gap|hostile|transform
"""
import copyreg
import os
import pickle
import sys
import types


class Stub:
    def __new__(cls, *args):
        o = object.__new__(cls)
        o._args = args
        return o

    def __setstate__(self, state):
        self._state = state

    def __reduce_ex__(self, proto):
        if hasattr(self, "_state"):
            return (copyreg.__newobj__, (type(self),) + self._args, self._state)
        return (type(self), self._args)


def fake(module, name):
    m = sys.modules.get(module)
    if m is None or not getattr(m, "_dcp_fake", False):
        m = types.ModuleType(module)
        m._dcp_fake = True
        sys.modules[module] = m
    if not hasattr(m, name):
        setattr(m, name, type(name, (Stub,), {"__module__": module, "__qualname__": name}))
    return getattr(m, name)


class Loader(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith("torch"):
            return fake(module, name)
        return super().find_class(module, name)


class Hostile:
    def __reduce__(self):
        return (os.system, ("echo dcp-merge-test-pwned",))


def main():
    src, dst, what = sys.argv[1:4]
    with open(src, "rb") as f:
        md = Loader(f).load()
    st = md._state
    fqn = "model.model.embed_tokens.weight"
    chunks = st["state_dict_metadata"][fqn]._state["chunks"]
    size_cls = type(chunks[1]._state["offsets"])
    if what == "overlap":
        new_off = size_cls((128, 0))
        old = chunks[1]._state["offsets"]._args
        chunks[1]._state["offsets"] = new_off
        for k in st["storage_data"]:
            if k._state["fqn"] == fqn and k._state["offset"]._args == old:
                k._state["offset"] = new_off
    elif what == "gap":
        chunks[1]._state["sizes"] = size_cls((127, 64))
    elif what == "hostile":
        st["planner_data"]["evil"] = Hostile()
    elif what == "transform":
        info = next(v for k, v in st["storage_data"].items() if k._state["fqn"] == fqn)
        info._state["transform_descriptors"] = ["zstd"]
    else:
        raise SystemExit("unknown mutation " + what)
    with open(dst, "wb") as f:
        pickle.dump(md, f, protocol=4)


main()
