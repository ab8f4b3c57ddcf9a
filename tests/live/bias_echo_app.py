"""asyncio TCP echo server on loopback, for scripts/bias.sh.

    python bias_echo_app.py TRUTH_FILE

Listens on 127.0.0.1 (a free port, written to TRUTH_FILE as "port"); each
connection is served by its own Task: read a line, do a little work on it
(ec_transform), write it back.  Load comes from bias_echo_client.py, a
separate process.
"""
import asyncio
import json
import os
import sys

truth_file = sys.argv[1]


def ec_transform(data):
    acc = 0
    for b in data:
        acc = (acc * 31 + b) & 0xFFFFFFFF
    return data.upper() if acc & 1 else data


async def ec_handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(ec_transform(line))
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(ec_handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0], "port": port}, f)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
