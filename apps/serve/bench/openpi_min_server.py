"""A minimal Python policy server speaking openpi's WebSocket protocol, for bench/python-client.ts.

Follows openpi's websocket_policy_server.py: on connect it sends the metadata (msgpack_numpy), then
for each binary frame: unpack the observation, call the policy (timed: server_timing.infer_ms),
add prev_total_ms (the previous request's receive-to-send time), pack and send the reply. The policy
only checks the LIBERO keys and returns a fixed float32 chunk [horizon, action_dim]: what is left of
a round trip after infer_ms is the protocol (framing, msgpack, websockets, asyncio).
usage: openpi_min_server.py HORIZON ACTION_DIM   (prints the port on stdout, serves until stdin closes)
"""
import asyncio
import os
import sys
import time

import numpy as np
import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures"))
from openpi_client_transcribed import msgpack_numpy  # noqa: E402

KEYS = ("observation/image", "observation/wrist_image", "observation/state", "prompt")


def main():
    horizon, action_dim = int(sys.argv[1]), int(sys.argv[2])
    chunk = np.zeros((horizon, action_dim), dtype=np.float32)
    packer = msgpack_numpy.Packer()

    def infer(obs):
        for k in KEYS:
            if k not in obs:
                raise KeyError(k)
        return {"actions": chunk}

    async def handler(ws, path=None):
        await ws.send(packer.pack({"server": "openpi-min-python"}))
        prev_total = None
        while True:
            try:
                t0 = time.monotonic()
                obs = msgpack_numpy.unpackb(await ws.recv())
                ti = time.monotonic()
                action = infer(obs)
                ti = time.monotonic() - ti
                action["server_timing"] = {"infer_ms": ti * 1000}
                if prev_total is not None:
                    action["server_timing"]["prev_total_ms"] = prev_total * 1000
                await ws.send(packer.pack(action))
                prev_total = time.monotonic() - t0
            except websockets.ConnectionClosed:
                break

    async def serve():
        async with websockets.serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            print(port, flush=True)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sys.stdin.read)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
