"""openpi's Python client, timed: encodes as openpi-client does (msgpack_numpy, binary keys) and
follows WebsocketClientPolicy (connect with compression=None, max_size=None, read the metadata
frame, then send one observation and wait for its reply). Debian's python3-websockets 10.4 has no
sync client (openpi-client uses websockets.sync), so this uses the asyncio client: the same frames.
usage: openpi_client_bench.py URL WARMUP REQUESTS     (prints JSON: rtt_ms[], infer_ms[], server_side_ms[], client_cpu_ms)
"""
import asyncio
import json
import os
import sys
import time

import numpy as np
import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures"))
from openpi_client_transcribed import msgpack_numpy  # noqa: E402


def observations(n):
    rng = np.random.default_rng(0)
    return [
        {
            "observation/image": rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
            "observation/wrist_image": rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
            "observation/state": rng.uniform(-1, 1, 8).astype(np.float32),
            "prompt": "pick up the black bowl",
        }
        for _ in range(n)
    ]


async def run(url, warmup, requests):
    packer = msgpack_numpy.Packer()
    obs = observations(16)
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        msgpack_numpy.unpackb(await ws.recv())  # metadata
        rtt, infer, server_side = [], [], []
        last_infer = None
        c0 = time.process_time()
        for i in range(warmup + requests):
            t0 = time.perf_counter()
            await ws.send(packer.pack(obs[i % len(obs)]))
            reply = await ws.recv()
            if isinstance(reply, str):
                raise RuntimeError(f"Error in inference server:\n{reply}")
            out = msgpack_numpy.unpackb(reply)
            dt = (time.perf_counter() - t0) * 1000
            if i == warmup:
                c0 = time.process_time()
            timing = out["server_timing"]
            if i >= warmup:
                rtt.append(dt)
                infer.append(timing["infer_ms"])
                if last_infer is not None and "prev_total_ms" in timing:
                    # the server's own time for the previous request (receive -> sent) minus its infer_ms
                    server_side.append(timing["prev_total_ms"] - last_infer)
            last_infer = timing["infer_ms"]
            assert out["actions"].dtype == np.float32 and out["actions"].ndim == 2
        cpu = (time.process_time() - c0) * 1000
    return {"rtt_ms": rtt, "infer_ms": infer, "server_side_ms": server_side, "client_cpu_ms": cpu}


if __name__ == "__main__":
    url, warmup, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(asyncio.run(run(url, warmup, requests))))
