#!/usr/bin/env python3
"""A minimal QMP client for the rig's migration runs (QEMU's JSON monitor).

Usage: qmp.py SOCKET COMMAND [JSON-ARGUMENTS]

Connects to the QMP server at SOCKET, leaves capabilities negotiation,
runs COMMAND and prints its return value flattened to "key=value" lines
(nested keys joined with '.', '-' kept), skipping asynchronous events.
Exits 1 with QEMU's error message if the command fails.
"""
import json
import socket
import sys


def flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, val in value.items():
            yield from flatten(val, f"{prefix}{key}.")
    elif isinstance(value, list):
        for i, val in enumerate(value):
            yield from flatten(val, f"{prefix}{i}.")
    else:
        yield f"{prefix[:-1]}={value}"


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip())
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(sys.argv[1])
    except OSError as err:
        sys.exit(f"qmp: {sys.argv[1]}: {err.strerror}")
    lines = sock.makefile("r")

    def reply():
        # Events ("event" key) may come before the answer.
        for line in lines:
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg
        sys.exit("qmp: connection closed")

    if "QMP" not in json.loads(lines.readline()):
        sys.exit("qmp: no QMP greeting")
    for cmd in ({"execute": "qmp_capabilities"}, {"execute": sys.argv[2]}):
        if cmd["execute"] == sys.argv[2] and len(sys.argv) == 4:
            cmd["arguments"] = json.loads(sys.argv[3])
        sock.sendall(json.dumps(cmd).encode() + b"\n")
        msg = reply()
        if "error" in msg:
            sys.exit(f"qmp: {cmd['execute']}: {msg['error'].get('desc', msg['error'])}")
    for line in flatten(msg["return"]):
        print(line)


if __name__ == "__main__":
    main()
