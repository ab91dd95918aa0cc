"""A TCP forwarder: `python -m tests.cluster.forward --to 127.0.0.1:5432 ADDR:PORT ...`.

The machine's PostgreSQL listens on loopback only; a host in a namespace cannot reach
that. This process, in the hub (root) namespace, listens on each host link's hub-side
address and relays every connection to the target. Prints `ready` once listening.
"""

import argparse
import asyncio

CHUNK = 64 * 1024


async def _pipe(reader, writer):
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _relay(target, client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))


def _address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def _serve(listen, target):
    servers = [
        await asyncio.start_server(lambda r, w: _relay(target, r, w), host, port) for host, port in listen
    ]
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main():
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.forward", description=__doc__.splitlines()[0])
    parser.add_argument("--to", type=_address, required=True, help="where connections are relayed (host:port)")
    parser.add_argument("listen", type=_address, nargs="+", help="addresses to listen on (host:port)")
    args = parser.parse_args()
    asyncio.run(_serve(args.listen, args.to))


if __name__ == "__main__":
    main()
