"""What every benchmark shares: one command line (--help, --quick), targets printed as met or missed,
and exit status 0 unless it crashed (a missed target is a finding, not a failure).

A benchmark parses its command line before its heavy imports, so `--help` answers at once:

    from benchmarks.common import Targets, cli, run
    ARGS = cli(__doc__, __name__, {"--grids": dict(type=int, default=200, help="...")})

    import torch  # noqa: E402  (after cli(): --help must not wait for torch)

    def main(args): ...; targets.report()

    if __name__ == "__main__":
        raise SystemExit(run(main, ARGS))
"""

from __future__ import annotations

import argparse
import resource
import sys
import traceback


def cli(doc: str, module: str, options: dict | None = None, quick: str = "a short run (well under a minute)"):
    """The parsed command line when `module` runs as a script (`python -m benchmarks.<name>`), else None."""
    if module != "__main__":
        return None
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    summary, _, details = doc.strip().partition("\n\n")
    parser = argparse.ArgumentParser(
        prog=f"python -m {spec.name}" if spec else None, description=summary, epilog=details,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help=quick)
    for flag, settings in (options or {}).items():
        parser.add_argument(flag, **settings)
    return parser.parse_args()


class Targets:
    """Targets measured in one run, printed together at the end as met or MISSED."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, bool]] = []

    def check(self, name: str, measured: str, target: str, met: bool) -> bool:
        self.rows.append((name, measured, target, bool(met)))
        return bool(met)

    def report(self) -> None:
        if not self.rows:
            return
        print("\ntargets:")
        for name, measured, target, met in self.rows:
            print(f"  {'met' if met else 'MISSED':<6}  {name}: {measured} (target {target})")


def run(main, args) -> int:
    """Run a benchmark's main(args): 0 when it ran to the end, 1 (with the trace) when it crashed."""
    try:
        main(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("the benchmark crashed (above); its figures are incomplete", file=sys.stderr)
        return 1
    return 0


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux's ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
