"""Plain-text tables with aligned columns, shared by the bench and numerics reports."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

__all__ = ["text_table", "number_cell"]


def number_cell(value: float | None, fmt: str = ".2e") -> str:
    """``value`` formatted with ``fmt``, or "-" for None (no value).

    Examples
    --------
    >>> number_cell(1.5e-17), number_cell(None), number_cell(0.25, ".3g")
    ('1.50e-17', '-', '0.25')
    """
    return "-" if value is None else format(value, fmt)


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = (),
               notes: Mapping[int, str] | None = None) -> str:
    """Columns padded to their widest cell and separated by two spaces, a dashed line under ``head``.

    Parameters
    ----------
    head : the column titles.
    rows : the cells of each row, as many as ``head``.
    right : indices of the columns aligned right (the others are aligned left).
    notes : row index -> text written after that row (e.g. a marker).

    Returns
    -------
    The lines joined by newlines, without trailing spaces.

    Examples
    --------
    >>> print(text_table(("name", "time"), [("numpy", "12 us"), ("numba", "3 us")], right=[1], notes={1: "<- best"}))
    name    time
    -----  -----
    numpy  12 us
    numba   3 us  <- best
    """
    cells = [list(head)] + [list(r) for r in rows]
    for k, row in enumerate(cells[1:]):
        if len(row) != len(head):
            raise ValueError(f"text_table: row {k} has {len(row)} cells, the head has {len(head)} columns")
    widths = [max(len(row[k]) for row in cells) for k in range(len(head))]
    lines = []
    for i, row in enumerate(cells):
        line = "  ".join(c.rjust(w) if k in right else c.ljust(w)
                         for k, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
        if i and notes and i - 1 in notes:
            line += "  " + notes[i - 1]
        lines.append(line)
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
