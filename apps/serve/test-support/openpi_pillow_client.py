"""An openpi-client-style LIBERO client: camera frames are resized on the client with Pillow exactly
as openpi_client.image_tools.resize_with_pad does (transcribed below) and arrays are packed as
openpi_client.msgpack_numpy packs them. Uses the libraries openpi_client uses (Pillow, numpy, msgpack,
websockets); written from openpi-client's source, not from the server's code.

usage: python3 openpi_pillow_client.py ws://host:port < requests.json   (one JSON line out per reply)
Each request: {"image_file": path, "wrist_file": path, "height": H, "width": W, "resize": S or null,
               "state": [...], "prompt": str, "noise_seed": int, "kind": "uint8"|"float32"|"rgba"|"nan"|"empty"}
"""
import asyncio
import json
import sys

import msgpack
import numpy as np
import websockets
from PIL import Image


# --- openpi_client/msgpack_numpy.py (pack_array / unpack_array) ---
def pack_array(obj):
    if (isinstance(obj, (np.ndarray, np.generic))) and obj.dtype.kind in ("V", "O", "c"):
        raise ValueError(f"Unsupported dtype: {obj.dtype}")
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def unpack_array(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


# --- openpi_client/image_tools.py ---
def convert_to_uint8(img):
    if np.issubdtype(img.dtype, np.floating):
        img = (255 * img).astype(np.uint8)
    return img


def resize_with_pad(images, height, width, method=Image.BILINEAR):
    if images.shape[-3:-1] == (height, width):
        return images
    original_shape = images.shape
    images = images.reshape(-1, *original_shape[-3:])
    resized = np.stack([_resize_with_pad_pil(Image.fromarray(im), height, width, method=method) for im in images])
    return resized.reshape(*original_shape[:-3], *resized.shape[-3:])


def _resize_with_pad_pil(image, height, width, method):
    cur_width, cur_height = image.size
    if cur_width == width and cur_height == height:
        return image
    ratio = max(cur_width / width, cur_height / height)
    resized_height = int(cur_height / ratio)
    resized_width = int(cur_width / ratio)
    resized_image = image.resize((resized_width, resized_height), resample=method)
    zero_image = Image.new(resized_image.mode, (width, height), 0)
    pad_height = max(0, int((height - resized_height) / 2))
    pad_width = max(0, int((width - resized_width) / 2))
    zero_image.paste(resized_image, (pad_width, pad_height))
    assert zero_image.size == (width, height)
    return zero_image


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
