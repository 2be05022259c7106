"""``python -m gateway.demo [--data DIR] [--port BASE | --ports LV,PARTNER,PORTAL,CS,LV_PREVIEW,PARTNER_PREVIEW]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.demo.launcher import DEFAULT_BASE_PORT, DEFAULT_DATA, main
from gateway.demo.network import Ports


def parse(argv: list[str]) -> tuple[Path, Ports]:
    parser = argparse.ArgumentParser(prog="python -m gateway.demo", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default data/demo)")
    parser.add_argument("--port", type=int, default=DEFAULT_BASE_PORT,
                        help="first of six consecutive ports: LV node, partner node, portal, common services, "
                             "the LV and the partner preview spaces (https)")
    parser.add_argument("--ports", default="", help="the six ports explicitly, comma-separated")
    args = parser.parse_args(argv)
    if args.ports:
        values = [int(p) for p in args.ports.split(",")]
        if len(values) != 6:
            parser.error("--ports needs six ports: LV,PARTNER,PORTAL,CS,LV_PREVIEW,PARTNER_PREVIEW")
        return args.data, Ports(*values)
    return args.data, Ports.from_base(args.port)


if __name__ == "__main__":
    data, ports = parse(sys.argv[1:])
    sys.exit(main(data, ports))
