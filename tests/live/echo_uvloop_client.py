"""Load for echo_uvloop_app.py: N connections sending lines as fast as the
server echoes them.  python echo_uvloop_client.py PORT N; prints
"connected" once every connection is open, runs until killed."""
import asyncio
import sys


async def one(port, opened):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened.append(1)
    line = b"x" * 64 + b"\n"
    while True:
        writer.write(line)
        await writer.drain()
        if await reader.readline() != line:
            sys.exit("echo mismatch")


async def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    opened = []
    tasks = [asyncio.create_task(one(port, opened)) for _ in range(n)]
    while len(opened) < n:
        await asyncio.sleep(0.01)
    print("connected", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
