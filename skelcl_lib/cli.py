"""Command line: ``skelcl <command> ...`` (also ``python -m skelcl_lib``).

Each command lives next to the code it drives, as a function ``cli(argv) -> int`` that
parses its own arguments; this file only dispatches (importing a command's module when it
runs, so ``skelcl env`` does not load torch's training stack) and turns input errors
(:class:`~skelcl_lib.errors.ConfigError`, :class:`~skelcl_lib.errors.DataFormatError`) into one
line per problem on stderr and exit status 2.
"""

from __future__ import annotations

import importlib
import sys
import traceback

from .errors import ConfigError, DataFormatError

COMMANDS = {
    # name: (module, function, one-line help)
    "synth": ("skelcl_lib.data.synthetic", "cli", "generate the embedded dataset (ST-GCN format)"),
    "prepare-ntu": ("skelcl_lib.data.ntu", "cli_prepare", "NTU .skeleton files -> 300-frame arrays and frame50"),
    "prepare-pku": ("skelcl_lib.data.pku", "cli_prepare", "PKU-MMD I/II -> per-action arrays"),
    "pretrain": ("skelcl_lib.pretrain", "cli", "self-supervised pretraining from a YAML config"),
    "evaluate": ("skelcl_lib.evaluate.suite", "cli", "linear / kNN / semi-supervised / fine-tune evaluation"),
    "benchmark": ("skelcl_lib.benchmark", "cli", "pretrain what is missing, evaluate every method, one markdown table"),
    "checkpoints": ("skelcl_lib.checkpoints", "cli", "list / export / verify the shipped checkpoints"),
    "demo": ("skelcl_lib.demo", "cli", "the main job on the embedded dataset (README's first command)"),
    "env": ("skelcl_lib.env", "cli", "print the environment report"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {k.ljust(width)}  {v[2]}" for k, v in COMMANDS.items())
    return (f"usage: skelcl [--debug] <command> [options]\n\ncommands:\n{rows}\n\n"
            "`skelcl <command> --help` for options; --debug shows the traceback of an input error.")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"skelcl: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    fn = getattr(importlib.import_module(module), func)
    try:
        return int(fn(rest) or 0)
    except (ConfigError, DataFormatError) as e:
        if debug:
            traceback.print_exc()
        for line in str(e).splitlines():        # one line per problem, no traceback
            print(f"skelcl {name}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
