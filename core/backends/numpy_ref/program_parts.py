"""A long straight-line program as Python functions of bounded size, for the NumPy backend's composites.

CPython compiles one function in time that grows faster than its length, and a fused composite of a big graph
holds tens of thousands of statements: one generated function took seconds to compile. A program longer than
``PART_STATEMENTS`` statements becomes part functions of at most that many statements, called in order by the
entry function. Values cross parts through one list of slots (``s``): a part loads the values it reads from
earlier parts (and clears a slot it reads last), and stores the values later parts read. Every value is
stored and loaded once per part that reads it, so the work is linear in the program's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PART_STATEMENTS", "Statement", "program_source"]

# A function of the generated program holds at most this many statements (loads and stores aside).
PART_STATEMENTS = 500


@dataclass(frozen=True)
class Statement:
    """One line of a program: its text, the local names it reads and the ones it assigns."""

    text: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]


def program_source(name: str, params: Sequence[str], body: Sequence[Statement], results: Sequence[str]) -> str:
    """The source of ``def name(*params)`` running ``body`` and returning ``results`` (a tuple when there are
    several, the value itself when one), cut into part functions ``_<name>_part<k>`` when the body is longer
    than ``PART_STATEMENTS``. Global names (functions, constants) are not listed in ``reads``.

    Examples
    --------
    >>> body = [Statement("a = x + 1", ("x",), ("a",)), Statement("b = a * x", ("a", "x"), ("b",))]
    >>> print(program_source("f", ["x"], body, ["b"]), end="")
    def f(x):
        a = x + 1
        b = a * x
        return b
    """
    ret = f"return {', '.join(results)}{',' if len(results) > 1 else ''}"
    if len(body) <= PART_STATEMENTS:
        lines = [f"def {name}({', '.join(params)}):"] + [f"    {st.text}" for st in body] + [f"    {ret}"]
        return "\n".join(lines) + "\n"
    parts = [list(body[k:k + PART_STATEMENTS]) for k in range(0, len(body), PART_STATEMENTS)]
    parts[-1].append(Statement(ret, tuple(results), ()))
    loads, stores = _crossing_values(params, parts)
    slot = {p: k for k, p in enumerate(params)}
    for part_loads in loads:
        for v in part_loads:
            slot.setdefault(v, len(slot))
    last_load = {v: k for k, part_loads in enumerate(loads) for v in part_loads}
    sources = [_part_source(f"_{name}_part{k}", part, loads[k], stores[k], slot,
                            [v for v in loads[k] if last_load[v] == k]) for k, part in enumerate(parts)]
    extra = len(slot) - len(params)
    entry = [f"def {name}({', '.join(params)}):", f"    s = [{', '.join(params)}] + [None] * {extra}"]
    entry += [f"    _{name}_part{k}(s)" for k in range(len(parts) - 1)]
    entry.append(f"    return _{name}_part{len(parts) - 1}(s)")
    return "".join(sources) + "\n".join(entry) + "\n"


def _crossing_values(params: Sequence[str], parts: list[list[Statement]]) -> tuple[list[list[str]], list[list[str]]]:
    """For each part, the names it reads that an earlier part (or the entry's parameters) assigned, and the
    names it assigns that a later part reads; one sweep over the statements."""
    assigned_in: dict[str, int] = {p: -1 for p in params}
    loads: list[list[str]] = []
    stored: list[dict[str, None]] = [{} for _ in parts]
    for k, part in enumerate(parts):
        here: dict[str, None] = {}
        for st in part:
            for v in st.reads:
                source = assigned_in[v]
                if source != k and v not in here:
                    here[v] = None
                    if source >= 0:
                        stored[source][v] = None
            for v in st.writes:
                assigned_in[v] = k
        loads.append(list(here))
    return loads, [list(s) for s in stored]


def _part_source(name: str, part: list[Statement], loads: list[str], stores: list[str], slot: dict[str, int],
                 last: list[str]) -> str:
    """One part function: load its inputs from the slots, clear the slots no later part reads, run its
    statements, store what later parts read."""
    lines = [f"def {name}(s):"]
    if loads:
        lines.append(f"    {', '.join(loads)} = {', '.join(f's[{slot[v]}]' for v in loads)}")
    if last:
        lines.append(f"    {' = '.join(f's[{slot[v]}]' for v in last)} = None")
    lines += [f"    {st.text}" for st in part]
    if stores:
        lines.append(f"    {', '.join(f's[{slot[v]}]' for v in stores)} = {', '.join(stores)}")
    return "\n".join(lines) + "\n"
