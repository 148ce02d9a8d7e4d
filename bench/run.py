"""Run the benchmark suite: `python -m bench.run --quick|--full|--smoke [--only NAME] [--output PATH]`.

Prints every figure with its baseline as it is measured, then a table, and writes the results as JSON
(`bench/results.json` unless told otherwise): {"<benchmark>": {"value", "unit", "baseline", "ratio",
"goal", "met", "details"}}. With `--only`, the other entries already in the file are kept.
"""

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import signal
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench import append, commands, logged_reads, open_cases, reads, rebuild
from bench.core import SIZES, Mode, Result, Sizes
from bench.databases import postgres_available, postgres_version
from bench.stack import System, Temporal, running_system, temporal_dev_server

RESULTS = Path(__file__).with_name("results.json")
GROUPS = ("append", "rebuild", "commands", "reads", "replay", "logged_reads", "open_cases")


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    # SIGTERM as Ctrl-C: throwaway databases are dropped and started processes stopped on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    mode = Mode(arguments.mode)
    selected = arguments.only or list(GROUPS)
    sizes = SIZES[mode]
    if arguments.open_cases:
        sizes = dataclasses.replace(sizes, open_cases=arguments.open_cases)
    asyncio.run(run_suite(mode, selected, arguments.output, keep_others=bool(arguments.only), sizes=sizes))
    print(f"\nresults written to {arguments.output}")
    return 0


async def run_suite(
    mode: Mode, selected: list[str], output: Path, *, keep_others: bool, sizes: Sizes | None = None
) -> list[Result]:
    """Run the selected benchmarks in `mode`; prints each result as it comes and writes the results
    file after every benchmark, so a long run that is stopped keeps what it measured."""
    if not await postgres_available():
        raise SystemExit("the benchmarks need PostgreSQL (GROEIRUIMTE_BENCH_POSTGRES_DSN)")
    print(await _machine())
    sizes = sizes or SIZES[mode]
    results: list[Result] = []
    async with AsyncExitStack() as exits:
        shared = _Shared(exits, Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="gr_bench_"))))
        for group in GROUPS:
            if group in selected and not (group == "replay" and "reads" in selected):
                print(f"\n== {group} ({mode.value}); load average {_load()}", flush=True)
                started = time.perf_counter()
                for result in await _group(group, mode, sizes, shared):
                    print(result.line(), flush=True)
                    results.append(result)
                print(f"   ({group} took {time.perf_counter() - started:.0f} s)", flush=True)
                _write(output, results, keep_others=keep_others)
    print("\n" + "\n".join(result.line() for result in results))
    return results


class _Shared:
    """What several benchmarks use, started once when first needed and stopped at the end."""

    def __init__(self, exits: AsyncExitStack, directory: Path) -> None:
        self.exits, self.directory = exits, directory
        self._temporal: Temporal | None = None
        self._system: System | None = None

    def temporal(self) -> Temporal:
        if self._temporal is None:
            self._temporal = self.exits.enter_context(temporal_dev_server(self.directory))
        return self._temporal

    async def system(self) -> System:
        """The whole app for the command and open-case benchmarks (one database, one stack)."""
        if self._system is None:
            running = running_system(self.temporal(), self.directory, open_cases.SYSTEM_SETTINGS)
            self._system = await self.exits.enter_async_context(running)
        return self._system


async def _group(group: str, mode: Mode, sizes: Sizes, shared: _Shared) -> list[Result]:
    if group == "append":
        return [*await append.run("postgresql", sizes), *await append.run("sqlite", sizes)]
    if group == "rebuild":
        kinds = ["postgresql", "sqlite"] if mode is not Mode.QUICK else ["postgresql"]
        return [await rebuild.run(kind, sizes) for kind in kinds]
    if group == "commands":
        return await commands.run(sizes, await shared.system())
    if group == "open_cases":
        return await open_cases.run(sizes, await shared.system())
    if group == "logged_reads":
        return [await logged_reads.run("postgresql", sizes), await logged_reads.run("sqlite", sizes)]
    return await reads.run(sizes, shared.temporal(), shared.directory, replay_only=group == "replay")


async def _rebuild(mode: Mode, sizes: Sizes) -> list[Result]:
    kinds = ["postgresql", "sqlite"] if mode is not Mode.QUICK else ["postgresql"]
    return [await rebuild.run(kind, sizes) for kind in kinds]


async def _machine() -> str:
    memory = _meminfo().get("MemTotal", "?")
    return (
        f"machine: {os.cpu_count()} CPUs, {memory} memory, PostgreSQL {await postgres_version()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load average {_load()}"
    )


def _meminfo() -> dict[str, str]:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return {}
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def _load() -> str:
    try:
        return " ".join(f"{figure:.2f}" for figure in os.getloadavg())
    except OSError:
        return "?"


def _write(path: Path, results: list[Result], *, keep_others: bool) -> None:
    existing: dict[str, Any] = {}
    if keep_others and path.exists():
        existing = json.loads(path.read_text())
    existing.update({result.name: result.as_json() for result in results})
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    modes = parser.add_mutually_exclusive_group(required=True)
    for mode in Mode:
        modes.add_argument(f"--{mode.value}", dest="mode", action="store_const", const=mode.value)
    parser.add_argument(
        "--only", action="append", choices=GROUPS, help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the results")
    parser.add_argument(
        "--open-cases", type=int, metavar="N", help="open this many cases instead of the mode's number"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
