"""The lines that open every section of BENCHMARKS.md: when, on what machine, under what load,
and the command that re-makes it."""

from __future__ import annotations

from typing import Any


def _measured(result: dict[str, Any]) -> str:
    m = result["machine"]
    return (
        f"Measured {result['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, "
        f"Python {m['python']}; 1-minute load average at the start: {m['load_1m']}."
    )


def header(result: dict[str, Any]) -> list[str]:
    """The date, machine, load and command lines that open a section."""
    return [_measured(result), "", "```sh", result["command"], "```", ""]
