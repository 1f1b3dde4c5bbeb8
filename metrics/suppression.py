"""Small-number suppression for equality (EDI) figures, as UK official statistics do it.

Primary suppression: a count from 1 to 4 is never shown ("fewer than 5"). Secondary
suppression: wherever a total is shown, the hidden cells of its line must not be recoverable
by subtraction, so a line with a shown total has either no hidden cell, or at least two whose
sum is 5 or more; otherwise the smallest other non-zero cell is hidden too (or, when there is
none, the total). A table is checked along its rows, its columns and both total lines, again
and again until nothing changes, so no row or column can be used to undo another.
"""

from __future__ import annotations

THRESHOLD = 5
TOTAL = "__total__"


def is_small(value: int | None) -> bool:
    return value is not None and 0 < value < THRESHOLD


def suppress_table(
    table: dict[str, dict[str, int]], columns: list[str]
) -> tuple[dict[str, dict[str, int | None]], dict[str, int | None], dict[str, int | None]]:
    """`table` is {row: {column: count}}. Returns the cells, the row totals ({row: total})
    and the column totals ({column: total, TOTAL: grand total}), with every figure that must
    be hidden replaced by None."""
    rows = list(table)
    grid: dict[str, dict[str, int]] = {}
    for row in rows:
        grid[row] = {col: int(table[row].get(col, 0) or 0) for col in columns}
        grid[row][TOTAL] = sum(grid[row][col] for col in columns)
    grid[TOTAL] = {col: sum(grid[row][col] for row in rows) for col in [*columns, TOTAL]}

    hidden = {(r, c) for r in grid for c in grid[r] if is_small(grid[r][c])}
    lines = []  # (cells of the line, its total)
    for r in grid:
        lines.append(([(r, c) for c in columns], (r, TOTAL)))
    for c in [*columns, TOTAL]:
        lines.append(([(r, c) for r in rows], (TOTAL, c)))

    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if total in hidden:
                continue
            secret = [cell for cell in cells if cell in hidden]
            if not secret:
                continue
            if len(secret) >= 2 and sum(grid[r][c] for r, c in secret) >= THRESHOLD:
                continue
            candidates = [
                cell for cell in cells if cell not in hidden and grid[cell[0]][cell[1]] > 0
            ]
            if candidates:
                hidden.add(min(candidates, key=lambda cell: (grid[cell[0]][cell[1]], cell)))
            else:
                hidden.add(total)
            changed = True

    def shown(r, c):
        return None if (r, c) in hidden else grid[r][c]

    cells = {row: {col: shown(row, col) for col in columns} for row in rows}
    row_totals = {row: shown(row, TOTAL) for row in rows}
    column_totals = {col: shown(TOTAL, col) for col in [*columns, TOTAL]}
    return cells, row_totals, column_totals


def suppress_counts(counts: dict[str, int]) -> tuple[dict[str, int | None], int | None]:
    """One breakdown with its total: ({category: count or None}, total or None)."""
    columns = list(counts)
    cells, totals, _ = suppress_table({"all": counts}, columns)
    return cells["all"], totals["all"]
