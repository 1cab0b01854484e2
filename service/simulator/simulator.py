"""The national portal's evaluation API on the loopback, for the demo, tests and benchmarks.

`PortalSimulator` serves a source over HTTP the way the portal does (POST a
JSON body, HTTP 201 and the ``{"code":"OK","data":...,"message":"OK"}``
envelope): `ReplaySource` answers with recorded responses, `GeneratedSource`
with a fictional country. It can be told to misbehave (`Fault`) from Python
or over HTTP (``POST`` / ``DELETE /_simulator/faults``), so a test can drive
a simulator running in another process. `main` is the command line
(``python -m service.simulator.simulator``, ``dvcwatch simulator``).

The pieces live beside this module: `queries` (what is asked), `replay`,
`derived` (rankings from axis answers), `generated` with `country`, `counts`,
`metrics`, `listing_answers` and `tree_answers`, `server`, `faults`, `wire` and
`replies`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from service.simulator.faults import FAULT_KINDS, Fault
from service.simulator.generated import GeneratedSource
from service.simulator.replay import ReplaySource
from service.simulator.server import PortalSimulator, PortalSource, is_loopback

__all__ = ["Fault", "GeneratedSource", "PortalSimulator", "ReplaySource", "main"]


def _arguments(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the national portal's evaluation API on the loopback.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--replay", metavar="DIR", help="serve the recorded responses in DIR")
    source.add_argument("--generate", action="store_true", help="serve a fictional country")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument("--communes", type=int, default=20, help="total over all provinces")
    parser.add_argument("--agencies", type=int, default=5, help="total over all provinces")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:ENDPOINT[:TIMES]]",
        help=f"inject a fault; KIND is one of {', '.join(FAULT_KINDS)}",
    )
    parser.add_argument(
        "--delay", type=float, default=0.0, metavar="SECONDS", help="delay every request by SECONDS"
    )
    return parser


def _source(args: argparse.Namespace) -> PortalSource:
    """The replayed folder or the generated country; ValueError if it cannot be made."""
    if args.replay:
        return ReplaySource(Path(args.replay))
    return GeneratedSource(args.seed, args.provinces, args.communes, args.agencies)


def _faults(args: argparse.Namespace) -> list[Fault]:
    """The faults of --fault and --delay; ValueError naming a malformed one."""
    faults = [Fault.from_spec(spec) for spec in args.fault]
    if args.delay:
        faults.append(Fault("delay", times=-1, seconds=args.delay))
    return faults


def main(argv: list[str] | None = None, prog: str = "python -m service.simulator.simulator") -> int:
    """Serve until SIGTERM or SIGINT; 0 when stopped so, 2 on bad usage, 1 if it cannot listen.
    `prog` is how its usage names it (`dvcwatch simulator` from the command line)."""
    args = _arguments(prog).parse_args(argv)
    if not is_loopback(args.host):
        print(
            f"refusing to listen on {args.host}: the simulator serves the loopback only",
            file=sys.stderr,
        )
        return 2
    try:
        source, faults = _source(args), _faults(args)
    except ValueError as exc:
        print(f"dvcwatch portal simulator: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    simulator = PortalSimulator(source, args.host, args.port)
    try:
        simulator.start()
    except OSError as exc:
        print(
            f"dvcwatch portal simulator: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    _serve(simulator, faults, stopping)
    return 0


def _serve(simulator: PortalSimulator, faults: list[Fault], stopping: threading.Event) -> None:
    """Inject `faults`, announce the URL, and serve until `stopping` is set."""
    for fault in faults:
        simulator.inject(fault)
    print(f"dvcwatch portal simulator listening on {simulator.base_url}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    sys.exit(main())
