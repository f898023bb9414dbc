"""``python -m demo [--host 127.0.0.1] [--port-base 8601]``: serve the demo sites until Ctrl-C."""

import argparse
import threading

from demo.server import ALL_SITES, SITES, DemoSites


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m demo", description="Serve the Wildwatch demo sites until Ctrl-C."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port-base",
        type=int,
        default=8601,
        help="port of the first site, the others follow (0: ephemeral ports)",
    )
    parser.add_argument("--data-dir", help="directory with <site>/listings.json")
    parser.add_argument(
        "--all", action="store_true", help="also the JSON-API site, the forum and the hostile site"
    )
    args = parser.parse_args(argv)
    names = ALL_SITES if args.all else SITES
    ports = {name: args.port_base and args.port_base + i for i, name in enumerate(names)}
    try:
        sites = DemoSites(args.host, ports, args.data_dir, names=names)
    except (OSError, ValueError) as exc:
        parser.exit(1, f"cannot start the demo sites: {exc}\n")
    with sites:
        for name, url in sites.urls.items():
            print(f"{name:<16} {url}", flush=True)
        print("Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
