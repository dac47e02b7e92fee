"""Run the mocks: `python -m mocks --port 8090` (fund, insurers, fault injection and OAuth on one port)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from werkzeug.serving import make_server

from mocks.app import create_app

log = logging.getLogger("mocks")


def main(argv: list[str] | None = None) -> int:
    """Serve the mocks until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m mocks", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # Each request gets its own (daemon) thread: a slow or timed-out call must not hold up the others.
    server = make_server(args.host, args.port, create_app(), threaded=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and a service manager's TERM both stop the server cleanly, even where SIGINT was ignored at start.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    base = f"http://{args.host}:{server.port}"
    log.info("mock fund      %s/fund (WSDL at ?wsdl)", base)
    log.info("mock insurers  %s/insurers/<code>", base)
    log.info("mock OAuth     %s/oauth (discovery at /oauth/.well-known/openid-configuration)", base)
    log.info("fault control  %s/mock/faults", base)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
