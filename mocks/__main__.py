"""Run the mocks: `python -m mocks --port 8090` (fund, insurers, fault injection and OAuth on one port)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

import click
from werkzeug.serving import make_server

from mocks.app import create_app, make_target_keys
from mocks.commands import LOG_FORMATS, LOG_LEVELS, configure_logging, listen

log = logging.getLogger("mocks")


def main(argv: list[str] | None = None) -> int:
    """Serve the mocks until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m mocks", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    parser.add_argument("--log-level", default=os.environ.get("EPOLICY_LOG_LEVEL", "INFO"), help="(EPOLICY_LOG_LEVEL)")
    parser.add_argument("--log-format", default=os.environ.get("EPOLICY_LOG_FORMAT", "text"), help="text or json")
    parser.add_argument(
        "--keys",
        default=os.environ.get("EPOLICY_MOCKS_SIGNING_KEYS"),
        help="folder of the targets' signing keys, made there when missing (EPOLICY_MOCKS_SIGNING_KEYS; "
        "default: a temporary folder)",
    )
    parser.add_argument(
        "--trust",
        default=os.environ.get("EPOLICY_MOCKS_TRUSTED_CERTIFICATES"),
        help="PEM files of the callers' certificates, separated by commas (EPOLICY_MOCKS_TRUSTED_CERTIFICATES; "
        "without any, every request is refused)",
    )
    args = parser.parse_args(argv)
    # Checked here rather than by argparse `choices`, which leave a default from the environment unchecked.
    problems = []
    if args.log_level.upper() not in LOG_LEVELS:
        problems.append(f"--log-level {args.log_level!r} (EPOLICY_LOG_LEVEL): write one of {', '.join(LOG_LEVELS)}")
    if args.log_format not in LOG_FORMATS:
        problems.append(f"--log-format {args.log_format!r} (EPOLICY_LOG_FORMAT): write {' or '.join(LOG_FORMATS)}")
    for problem in problems:
        print(f"Error: {problem}", file=sys.stderr)
    if problems:
        return 2
    configure_logging(args.log_level, args.log_format)
    try:
        listening = listen(args.host, args.port, "EPOLICY_MOCKS_PORT (or --port)")
    except click.ClickException as error:
        error.show()
        return 1

    config = {"SIGNING_KEYS": args.keys, "TRUSTED_CERTIFICATES": args.trust}
    try:
        app = create_app({name: value for name, value in config.items() if value})
    except ValueError as error:
        listening.close()
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.keys:
        make_target_keys(app)  # all at once, so that a caller can pin them before its first call
    # Each request gets its own (daemon) thread: a slow or timed-out call must not hold up the others.
    server = make_server(args.host, args.port, app, threaded=True, fd=listening.fileno())
    listening.close()  # the server holds its own copy of the socket

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
    log.info("certificates   %s/mock/certificates (the targets' signing certificates)", base)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
