"""An openpi-client-style LIBERO client: camera frames are resized on the client with Pillow exactly
as openpi_client.image_tools.resize_with_pad does (fixtures/openpi_client_transcribed) and arrays are packed as
openpi_client.msgpack_numpy packs them. Uses the libraries openpi_client uses (Pillow, numpy, msgpack,
websockets); written from openpi-client's source, not from the server's code.

usage: python3 openpi_pillow_client.py ws://host:port < requests.json   (one JSON line out per reply)
Each request: {"image_file": path, "wrist_file": path, "height": H, "width": W, "resize": S or null,
               "state": [...], "prompt": str, "noise_seed": int, "kind": "uint8"|"float32"|"rgba"|"nan"|"empty"}
"""
import asyncio
import json
import os
import sys

import msgpack
import numpy as np
import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures"))
from openpi_client_transcribed.image_tools import convert_to_uint8, resize_with_pad  # noqa: E402
from openpi_client_transcribed.msgpack_numpy import pack_array, unpack_array  # noqa: E402


def frame(path, h, w, r):
    img = np.fromfile(path, dtype=np.uint8).reshape(h, w, 3)
    kind = r.get("kind", "uint8")
    if kind == "empty":
        return np.zeros((h, 0, 3), dtype=np.uint8)
    if kind == "rgba":
        return np.concatenate([img, np.full((h, w, 1), 255, np.uint8)], axis=2)
    if kind in ("float32", "nan"):
        f = img.astype(np.float32) / np.float32(255)
        if kind == "nan":
            f[1, 2, 0] = np.nan
        return f
    if r.get("resize"):
        s = r["resize"]
        img = convert_to_uint8(resize_with_pad(img, s, s))
    return img


async def main(url):
    requests = json.load(sys.stdin)
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        msgpack.unpackb(await ws.recv(), object_hook=unpack_array)
        for r in requests:
            obs = {
                "observation/image": frame(r["image_file"], r["height"], r["width"], r),
                "observation/wrist_image": frame(r["wrist_file"], r["height"], r["width"], r),
                "observation/state": np.array(r["state"], dtype=np.float32),
                "prompt": r["prompt"],
                "noise_seed": np.uint32(r["noise_seed"]),
            }
            await ws.send(msgpack.packb(obs, default=pack_array))
            reply = await ws.recv()
            if isinstance(reply, str):
                print(json.dumps({"event": "error", "text": reply}), flush=True)
                continue
            a = msgpack.unpackb(reply, object_hook=unpack_array)["actions"]
            print(json.dumps({"event": "reply", "shape": list(a.shape), "actions": a.astype(np.float64).ravel().tolist()}), flush=True)


asyncio.run(main(sys.argv[1]))
