"""An openpi-style LIBERO client written from the protocol description (not from the server's code).

numpy arrays travel as openpi's msgpack_numpy packs them: a map with bytes keys b"__ndarray__",
b"data", b"dtype", b"shape"; replies are decoded with the matching object_hook. Uses the libraries
openpi_client uses (websockets, msgpack, numpy).

usage: python3 libero_client.py ws://host:port < requests.json   (one JSON line out per event)
Each request: {"image": [..], "wrist_image": [..], "state": [..], "prompt": str, "size": int,
               "noise_seed": int (optional), "drop": key (optional), "state_dtype": "float32"}
"""
import asyncio
import json
import os
import sys

import msgpack
import numpy as np
import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures"))
from openpi_client_transcribed.msgpack_numpy import pack_array, unpack_array  # noqa: E402


def observation(r):
    s = r["size"]
    obs = {
        "observation/image": np.array(r["image"], dtype=np.uint8).reshape(s, s, 3),
        "observation/wrist_image": np.array(r["wrist_image"], dtype=np.uint8).reshape(s, s, 3),
        "observation/state": np.array(r["state"], dtype=r.get("state_dtype", "float32")),
        "prompt": r["prompt"],
    }
    if "noise_seed" in r:
        obs["noise_seed"] = np.uint32(r["noise_seed"])
    if "drop" in r:
        del obs[r["drop"]]
    return obs


async def main(url):
    requests = json.load(sys.stdin)
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        meta = msgpack.unpackb(await ws.recv(), object_hook=unpack_array)
        print(json.dumps({"event": "metadata", "metadata": {k: v for k, v in meta.items() if isinstance(v, (int, float, str, bool, list))}}), flush=True)
        for r in requests:
            await ws.send(msgpack.packb(observation(r), default=pack_array))
            reply = await ws.recv()
            if isinstance(reply, str):
                print(json.dumps({"event": "error", "text": reply}), flush=True)
                continue
            out = msgpack.unpackb(reply, object_hook=unpack_array)
            a = out["actions"]
            print(json.dumps({
                "event": "reply",
                "dtype": a.dtype.str,
                "shape": list(a.shape),
                "actions": a.astype(np.float64).ravel().tolist(),
                "server_timing": sorted(out["server_timing"].keys()),
                "policy_timing": sorted(out.get("policy_timing", {}).keys()),
            }), flush=True)


asyncio.run(main(sys.argv[1]))
