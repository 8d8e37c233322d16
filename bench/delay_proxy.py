#!/usr/bin/env python3
"""A loopback TCP proxy that delays every byte by a fixed one-way time.

    python3 bench/delay_proxy.py --target 127.0.0.1:9000 --one-way-ms 10 [--port-file F]

Listens on 127.0.0.1 (a free port, printed on stdout and written to --port-file)
and forwards each connection to --target. Whatever one side sends reaches the
other --one-way-ms later, in both directions, the way netem delays a link: a
request-response pays two delays (one round trip), and a stream of chunks is
not slowed beyond that, because chunks are held side by side, not one after
another. A new connection's first request waits one round trip more (the TCP
handshake; TLS is not modelled). It serves the distributed benchmark's S3 store placed "far away"
(`ETL_BENCH_S3_RTT_MS`), where this machine's kernel has no netem qdisc.
The target only ever sees 127.0.0.1; nothing leaves loopback.
"""

import argparse
import asyncio
import collections
import itertools
import signal
import time
import sys

CHUNK = 256 * 1024


METHODS = (b"GET ", b"PUT ", b"POST ", b"HEAD ", b"DELETE ")


async def pump(reader, writer, delay, first_extra=0.0, log=None, conn=0):
    """Copies reader to writer, each chunk `delay` seconds after it was read (the
    first one `first_extra` more). With `log`, a chunk that starts an HTTP request
    writes its time, connection and request line there."""
    loop = asyncio.get_running_loop()
    held = collections.deque()
    arrived = asyncio.Event()
    done = False

    async def send():
        while True:
            while not held:
                if done:
                    return
                arrived.clear()
                await arrived.wait()
            due, data = held[0]
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            held.popleft()
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            if log and data.startswith(METHODS):
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                log.write(f"{time.time():.3f} c{conn} {line}\n")
                log.flush()
            held.append((loop.time() + delay + first_extra, data))
            first_extra = 0.0
            arrived.set()
    except (ConnectionError, OSError):
        pass
    done = True
    arrived.set()
    try:
        await sender
        if writer.can_write_eof():
            writer.write_eof()  # the other side's half-close, delayed like the data before it
    except (ConnectionError, OSError):
        sender.cancel()


async def serve(target_host, target_port, delay, port_file, log):
    connections = itertools.count(1)

    async def on_client(client_reader, client_writer):
        conn = next(connections)
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        # The kernel completed the client's handshake at once: its first bytes wait
        # the round trip a connect across the link would have taken.
        await asyncio.gather(pump(client_reader, server_writer, delay, 2 * delay, log, conn),
                             pump(server_reader, client_writer, delay))
        for w in (client_writer, server_writer):
            w.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    if port_file:
        with open(port_file, "w") as f:
            f.write(f"{port}\n")
    print(port, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port to forward to (loopback)")
    parser.add_argument("--one-way-ms", type=float, required=True, help="delay of each direction, in ms")
    parser.add_argument("--port-file", help="write the listening port here")
    parser.add_argument("--log", help="append each request's time, connection and request line here")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        sys.exit("delay_proxy: the target must be on loopback")
    log = open(args.log, "a") if args.log else None
    asyncio.run(serve(host.strip("[]"), int(port), args.one_way_ms / 1000.0, args.port_file, log))


if __name__ == "__main__":
    main()
