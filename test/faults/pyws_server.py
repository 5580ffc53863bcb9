#!/usr/bin/python3
"""A WebSocket fault server for wsmachine's system tests, on Debian's python3-websockets (10.x).

Run with /usr/bin/python3 (Debian's python, which has the `websockets` module):

    /usr/bin/python3 test/faults/pyws_server.py

It listens on 127.0.0.1 port 0 and prints one line `PORT <n>` once it is listening. After that it
prints one JSON object per line for everything a test may want to assert:

    {"ev": "open", "id": 1, "path": "/echo"}                  a connection was accepted
    {"ev": "reject", "path": "/reject/401", "status": 401}    an upgrade was refused
    {"ev": "frame", "id": 1, "opcode": 10, "len": 4, "data": "70696e67"}   a frame from the client
    {"ev": "ping", "id": 1, "data": "a1b2c3d4"}               a ping the server sent (/serverping)
    {"ev": "closed", "id": 1, "code": 1002, "reason": ""}     the close code the server saw
                                                              (1006: no close frame)

The path of the upgrade request picks the behaviour (numbers are decimal, <hex> is raw bytes):

    /echo                   echo every message
    /close/<code>/<reason>  close at once with that code and reason (reason optional)
    /drop                   TCP FIN without a close frame
    /rst                    TCP RST (SO_LINGER 0 + abort)
    /reject/<status>[/<s>]  refuse the upgrade with the status; 429/503 carry Retry-After (<s>, default 1)
    /nopong                 read everything, never answer pings
    /silent                 discard everything after the handshake and never write (a hung peer)
    /delaypong/<ms>         answer pings <ms> late
    /serverping/<ms>        ping the client every <ms> (a `ping` line with the payload each time)
    /raw/<hex>              write these bytes as they are after the handshake
    /badclosecode/<code>    a close frame with that (illegal) code
    /closelen1              a close frame with a 1-byte payload
    /closebadutf8           a close frame whose reason is not UTF-8
    /badutf8                a text frame that is not UTF-8
    /maskedframe            a masked frame (servers must not mask)
    /rsv                    a text frame with RSV1 set and no extension negotiated
    /opcode/<n>             a frame with a reserved opcode
    /badcont                a continuation frame with no message to continue
    /bigping                a ping with a 126-byte payload (control frames are at most 125)
    /fragctl                a fragmented ping (FIN clear on a control frame)
    /fragping               "Hel" + ping("ping") + "lo": a valid interleaved control frame
    /bigmsg/<bytes>         one binary message of that size
    /flood/<n>              n text messages "0".."n-1" as fast as possible

Every connection is logged until it is closed. Compression is off, so RSV1 is never legal.
"""

import asyncio
import http
import json
import logging
import os
import socket
import struct
import sys

import websockets
import websockets.legacy.server as legacy_server
from websockets.exceptions import ConnectionClosed

OP_PING = 0x9
OP_PONG = 0xA


def log(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def parts_of(path):
    return [p for p in path.split("?", 1)[0].split("/") if p != ""]


class FaultProtocol(legacy_server.WebSocketServerProtocol):
    """Logs every frame the client sends, and refuses upgrades on /reject/..."""

    async def process_request(self, path, request_headers):
        parts = parts_of(path)
        if parts and parts[0] == "reject":
            status = int(parts[1]) if len(parts) > 1 else 503
            headers = []
            if status in (429, 503):
                headers.append(("Retry-After", parts[2] if len(parts) > 2 else "1"))
            log(ev="reject", path=path, status=status)
            return http.HTTPStatus(status), headers, b"refused by pyws_server\n"
        return None

    async def read_frame(self, max_size):
        frame = await super().read_frame(max_size)
        if getattr(self, "log_id", None) is not None:
            log(ev="frame", id=self.log_id, opcode=frame.opcode, len=len(frame.data), data=frame.data[:64].hex())
        return frame


next_id = 0


def raw_frame(opcode, payload, fin=True, rsv1=False, mask=None):
    """A frame as bytes, built by hand so that it can break the rules."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        head = bytes([first, mask_bit | length])
    elif length < 65536:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", length)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", length)
    if mask is not None:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def raw_for(parts):
    """The bytes of a malformed-frame path, or None when the path is not one."""
    name = parts[0]
    arg = parts[1] if len(parts) > 1 else None
    if name == "raw":
        return bytes.fromhex(arg or "")
    if name == "badclosecode":
        return raw_frame(0x8, struct.pack("!H", int(arg or "1005")))
    if name == "closelen1":
        return raw_frame(0x8, b"\x03")
    if name == "closebadutf8":
        return raw_frame(0x8, struct.pack("!H", 1000) + b"\xff\xfe")
    if name == "badutf8":
        return raw_frame(0x1, b"\xff\xfe\xfd")
    if name == "maskedframe":
        return raw_frame(0x1, b"Hello", mask=b"\x37\xfa\x21\x3d")
    if name == "rsv":
        return raw_frame(0x1, b"Hello", rsv1=True)
    if name == "opcode":
        return raw_frame(int(arg or "3"), b"")
    if name == "badcont":
        return raw_frame(0x0, b"Hello")
    if name == "bigping":
        return raw_frame(OP_PING, b"p" * 126)
    if name == "fragctl":
        return raw_frame(OP_PING, b"ping", fin=False)
    if name == "fragping":
        return raw_frame(0x1, b"Hel", fin=False) + raw_frame(OP_PING, b"ping") + raw_frame(0x0, b"lo")
    return None


async def wait_closed(ws):
    await ws.wait_closed()
    log(ev="closed", id=ws.log_id, code=ws.close_code, reason=ws.close_reason or "")


async def handler(ws, path):
    global next_id
    next_id += 1
    ws.log_id = next_id
    parts = parts_of(path)
    log(ev="open", id=ws.log_id, path=path)
    name = parts[0] if parts else ""
    arg = parts[1] if len(parts) > 1 else None
    try:
        if name == "echo":
            async for message in ws:
                await ws.send(message)
        elif name == "close":
            code = int(arg or "1000")
            reason = "/".join(parts[2:]) if len(parts) > 2 else ""
            await ws.close(code, reason)
        elif name == "drop":
            ws.transport.close()
        elif name == "rst":
            sock = ws.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            ws.transport.abort()
        elif name == "nopong":

            async def no_pong(data=b""):
                return None

            ws.pong = no_pong
        elif name == "silent":
            # Read and discard every byte (so a client hang-up is still noticed), never write.
            ws.data_received = lambda data: None
        elif name == "delaypong":
            delay = int(arg or "500") / 1000
            real_pong = ws.pong

            async def late_pong(data=b""):
                async def later():
                    await asyncio.sleep(delay)
                    try:
                        await real_pong(data)
                    except ConnectionClosed:
                        pass

                asyncio.ensure_future(later())

            ws.pong = late_pong
        elif name == "serverping":
            every = int(arg or "300") / 1000
            while True:
                data = os.urandom(4)
                try:
                    await ws.ping(data)
                except ConnectionClosed:
                    break
                log(ev="ping", id=ws.log_id, data=data.hex())
                try:
                    await asyncio.wait_for(ws.wait_closed(), timeout=every)
                    break
                except asyncio.TimeoutError:
                    pass
        elif name == "bigmsg":
            await ws.send(b"\x00" * int(arg or "2000000"))
        elif name == "flood":
            for i in range(int(arg or "20000")):
                await ws.send(str(i))
        else:
            raw = raw_for(parts) if parts else None
            if raw is None:
                await ws.close(1008, "unknown path")
            else:
                ws.transport.write(raw)
    except ConnectionClosed:
        pass
    await wait_closed(ws)


async def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        create_protocol=FaultProtocol,
        compression=None,
        ping_interval=None,
        max_size=None,
        max_queue=None,
        close_timeout=2,
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()
    # Stop when the test closes stdin (or dies): never outlive the test run.
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()

    def on_stdin():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            if not stdin_closed.done():
                stdin_closed.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    await stdin_closed
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
