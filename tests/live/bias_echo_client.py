"""Load for bias_echo_app.py: CONNECTIONS clients for SECONDS seconds.

    python bias_echo_client.py PORT CONNECTIONS SECONDS

Each client sends a line of 200 bytes, waits for its echo, and starts
again, until the time is up; then it prints the number of round trips.
The number of connections and the duration are bounded by the caller.
"""
import asyncio
import sys
import time

port, connections, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


async def client(k, deadline, counts):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    line = (("client %d " % k) * 40)[:199].encode() + b"\n"
    n = 0
    while time.monotonic() < deadline:
        writer.write(line)
        await writer.drain()
        if not await reader.readline():
            break
        n += 1
    counts.append(n)
    writer.close()


async def main():
    deadline = time.monotonic() + seconds
    counts = []
    await asyncio.gather(*(client(k, deadline, counts) for k in range(connections)))
    print("round trips: %d" % sum(counts), flush=True)


asyncio.run(main())
