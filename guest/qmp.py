#!/usr/bin/env python3
"""A minimal QMP client for the rig's migration runs (QEMU's JSON monitor).

Usage: qmp.py SOCKET COMMAND [JSON-ARGUMENTS] [COMMAND [JSON] | SECONDS]...

Connects to the QMP server at SOCKET, leaves capabilities negotiation,
runs each COMMAND in turn (a number waits that many seconds first) and
prints the return value of the last one flattened to "key=value" lines
(nested keys joined with '.', '-' kept), skipping asynchronous events.
Exits 1 with QEMU's error message at the first command that fails.
One connection for a sequence: where the rig runs this (a debug L1,
over 9p), each start of Python takes seconds.
"""
import json
import socket
import sys
import time


def flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, val in value.items():
            yield from flatten(val, f"{prefix}{key}.")
    elif isinstance(value, list):
        for i, val in enumerate(value):
            yield from flatten(val, f"{prefix}{i}.")
    else:
        yield f"{prefix[:-1]}={value}"


def commands(args):
    """(seconds to wait, command) pairs from COMMAND [JSON] | SECONDS."""
    wait, cmds = 0.0, []
    for arg in args:
        if arg.startswith("{"):
            if not cmds or "arguments" in cmds[-1][1]:
                sys.exit(__doc__.strip())
            cmds[-1][1]["arguments"] = json.loads(arg)
        else:
            try:
                wait += float(arg)
                continue
            except ValueError:
                pass
            cmds.append((wait, {"execute": arg}))
            wait = 0.0
    if not cmds or wait:
        sys.exit(__doc__.strip())
    return cmds


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip())
    cmds = commands(sys.argv[2:])
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
    for wait, cmd in [(0, {"execute": "qmp_capabilities"})] + cmds:
        time.sleep(wait)
        sock.sendall(json.dumps(cmd).encode() + b"\n")
        msg = reply()
        if "error" in msg:
            sys.exit(f"qmp: {cmd['execute']}: {msg['error'].get('desc', msg['error'])}")
    for line in flatten(msg["return"]):
        print(line)


if __name__ == "__main__":
    main()
