"""Reads a TensorBoard event file with protoc-generated classes of TensorBoard's own event.proto /
summary.proto (not our code) and checks the TFRecord framing with an independent CRC-32C.

usage: /usr/bin/python3 read_events.py <dir with generated tensorboard/compat/proto/*_pb2.py> <event file>
prints JSON: {"records": N, "events": [{"wall_time", "step", "file_version" | "values": [[tag, value], ...]}]}
Exits 1 with a message on any framing or CRC error.
"""
import json
import struct
import sys


def make_table():
    # CRC-32C (Castagnoli): reflected polynomial 0x82F63B78 (RFC 3720, appendix B.4)
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = make_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    # TFRecord: ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2**32
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def main():
    assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value (RFC 3720) failed"
    sys.path.insert(0, sys.argv[1])
    from tensorboard.compat.proto import event_pb2

    data = open(sys.argv[2], "rb").read()
    pos = 0
    events = []
    while pos < len(data):
        if pos + 12 > len(data):
            sys.exit(f"truncated record header at {pos}")
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        if length_crc != masked(header):
            sys.exit(f"bad length CRC at {pos}")
        body = data[pos + 12 : pos + 12 + length]
        if len(body) != length or pos + 16 + length > len(data):
            sys.exit(f"truncated record at {pos}")
        (data_crc,) = struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])
        if data_crc != masked(body):
            sys.exit(f"bad data CRC at {pos}")
        pos += 16 + length
        ev = event_pb2.Event()
        ev.ParseFromString(body)
        if ev.SerializeToString() != body:
            sys.exit(f"record at {pos - 16 - length} does not re-serialise to the same bytes (unknown or misencoded fields)")
        out = {"wall_time": ev.wall_time, "step": ev.step, "what": ev.WhichOneof("what")}
        if out["what"] == "file_version":
            out["file_version"] = ev.file_version
        elif out["what"] == "summary":
            out["values"] = [[v.tag, v.simple_value, v.WhichOneof("value")] for v in ev.summary.value]
        events.append(out)
    print(json.dumps({"records": len(events), "events": events}))


main()
