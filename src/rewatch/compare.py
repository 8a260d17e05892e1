"""Compare two published warehouses table by table (incremental runs must equal a full rebuild)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from rewatch.lake import attach, connect, lake_of
from rewatch.settings import PUBLISHED_TABLES, Settings


def _rounded_columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> str:
    """Columns of a table, doubles rounded: sums of the same values in another order may differ
    in the last bits, and that is not a difference in the data."""
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'main' "
        "and table_name = ? order by column_index",
        [catalog, table],
    ).fetchall()
    if not columns:
        raise LookupError(f"{catalog}: no table main.{table}")
    return ", ".join(
        f'round("{name}", 6) as "{name}"' if kind in ("DOUBLE", "FLOAT") else f'"{name}"' for name, kind in columns
    )


def diff_warehouses(left: Path, right: Path, tables: tuple[str, ...] = PUBLISHED_TABLES) -> dict[str, tuple[int, int]]:
    """For each table: (rows only in left, rows only in right), as multisets. All zeros = equal.

    `left` and `right` are warehouse directories; their lakes are compared at their heads."""
    con = connect(Settings(exports_dir=Path(left), warehouse_dir=Path(left)))
    try:
        for alias, path in (("lhs", left), ("rhs", right)):
            attach(con, lake_of(Settings(exports_dir=Path(path), warehouse_dir=Path(path))), alias=alias)
        result = {}
        for table in tables:
            a = f"select {_rounded_columns(con, 'lhs', table)} from lhs.main.{table}"
            b = f"select {_rounded_columns(con, 'rhs', table)} from rhs.main.{table}"
            only_left = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
            only_right = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
            result[table] = (only_left, only_right)
        return result
    finally:
        con.close()
