"""Reading a delivered file: every format's reader and the checks on its columns.

Each reader takes a file as delivered and gives back its records with their line, all values
as text, or refuses the file by name (`ExportError`: unreadable, wrong columns, a header that
is not UTF-8). What a record must hold to be loaded (the quarantine rules) is the loader's
business (`rewatch.load`), not the reader's.

The CSV, Parquet and NDJSON readers run in DuckDB and leave the records in temporary tables of
the caller's connection (`stage_file` names them); the viewing-activity reader is row by row
(`rewatch.netflix`).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rewatch.contract import ExportError, file_format, physical_lines
from rewatch.netflix import EXPORT_COLUMNS, Rejected, ViewingActivityError, ViewingRow, read_viewing_activity
from rewatch.rawzone import sql_str


def _open(path: Path, mode: str = "rb", **kwargs):
    """The file itself, or its content when it is gzip-compressed (`.gz`)."""
    return (gzip.open if path.name.endswith(".gz") else open)(path, mode, **kwargs)


def _read_header(path: Path) -> list[str]:
    """The first line's column names (a UTF-8 BOM is dropped).

    Only the header line is decoded here: a byte that is not UTF-8 in a data row is the CSV
    reader's to quarantine with its line, wherever the row is in the file (decoding a whole
    first block here once made the same byte a crash in row 2 and a quarantined row in row 350).
    A header that is not UTF-8 refuses the file.
    """
    with _open(path) as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{path}: the header line is not UTF-8 (byte {first[exc.start : exc.start + 1]!r} at position "
            f"{exc.start}); the export contract requires UTF-8 text: ask the exporter to re-deliver it"
        ) from None
    try:
        return next(csv.reader([text.rstrip("\r\n")]), []) if text else []
    except csv.Error as exc:
        raise ExportError(
            f"{path}: the header line is not valid CSV ({exc}); ask the exporter to re-deliver it"
        ) from None


def _check_columns(path: Path, found: list[str], expected: tuple[str, ...], where: str = "header") -> None:
    """Refuse a file whose columns (CSV header, Parquet schema, an NDJSON record's keys) are not
    exactly the contract's: a renamed, missing or extra column is named, never read as NULL."""
    found_clean = [c.strip() for c in found]
    if found_clean == list(expected):
        return
    missing = [c for c in expected if c not in found_clean]
    extra = [c for c in found_clean if c not in expected]
    detail = []
    if missing:
        detail.append(f"missing {', '.join(missing)}")
    if extra:
        detail.append(f"unexpected {', '.join(extra)}")
    if not detail:
        detail.append("columns out of order")
    raise ExportError(
        f"{path}: {where} does not match the export contract ({'; '.join(detail)}). "
        f"Expected columns: {', '.join(expected)}"
    )


def _check_ndjson_keys(con: duckdb.DuckDBPyConnection, path: Path, columns: tuple[str, ...]) -> None:
    """Every NDJSON record must have exactly the contract's keys (in any order), like a CSV header."""
    shapes = con.execute(
        f"""
        select keys, min(record) as first_record
        from (
            select json_keys(json) as keys, row_number() over () as record
            from read_json_objects({sql_str(str(path))}, format = 'newline_delimited')
        )
        group by keys
        order by first_record
        """
    ).fetchall()
    for keys, record in shapes:
        ordered = [c for c in columns if c in keys] + [k for k in keys if k not in columns]
        _check_columns(path, ordered, columns, where=f"record {record}")


@dataclass(frozen=True)
class StagedFile:
    """One delivered file, read into two temp tables of the caller's connection."""

    records: str  # the readable records: `_line` (the line in the file) and every column as text
    rejects: str  # the malformed records: line, reason, record (the line as delivered)
    readable: int
    rejected: int

    @property
    def read(self) -> int:
        """Records read, readable or not: what the manifest's row count must be."""
        return self.readable + self.rejected


def stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, columns: tuple[str, ...], relation: str, lines: int | None = None
) -> StagedFile:
    """Read one delivered file into temp table `relation` (all columns text, plus `_line`).

    The schema is pinned (no type or dialect sniffing) so a file cut short or with a shifted
    column can never be read as something else. Malformed records go to `<relation>_rejects`.
    `lines`: the file's physical lines when already counted (`contract.verify_files`), else
    they are counted here (a CSV file's).
    """
    fmt = file_format(path.name)
    try:
        _read_records(con, path, fmt, columns, relation, lines)
    except duckdb.Error as exc:
        # One translation for every reader: the file, DuckDB's first line, and what to do.
        label = {"csv": "CSV", "parquet": "Parquet", "ndjson": "NDJSON"}[fmt]
        raise ExportError(
            f"{path}: unreadable {label} ({str(exc).splitlines()[0]}); ask the exporter to re-deliver it"
        ) from None
    rejects = f"{relation}_rejects"
    return StagedFile(
        records=relation,
        rejects=rejects,
        readable=con.execute(f"select count(*) from {relation}").fetchone()[0],
        rejected=con.execute(f"select count(*) from {rejects}").fetchone()[0],
    )


def _physical_lines(path: Path) -> int:
    """The file's lines as a text editor counts them (a last line without a newline counts)."""
    with _open(path) as raw:
        return physical_lines(raw)


def _number_by_physical_line(
    con: duckdb.DuckDBPyConnection, path: Path, relation: str, lines: int | None = None
) -> None:
    """Make every record's line, readable (`_line`) or rejected (`line`), the line it starts on
    in the file, as a person opening it sees it.

    DuckDB's CSV reader counts a record whose quoted field spans lines as one line, and does
    not number the readable records at all (they are counted, skipping blank lines). When the
    file has exactly one line per record (the header, then the records: the usual case, checked
    by counting newlines), both numberings are already the file's. Otherwise Python's csv
    module, which reads the same dialect, finds each record's first line and DuckDB's count for
    it (rows so far, blank ones included); rejects are renumbered through that count, and the
    other records take the remaining first lines in order. If the two readers disagree on how
    many records there are, DuckDB's numbering stays.
    """
    readable = con.execute(f"select count(*) from {relation}").fetchone()[0]
    rejected = {line for (line,) in con.execute(f"select line from {relation}_rejects").fetchall()}
    if (_physical_lines(path) if lines is None else lines) == 1 + readable + len(rejected):
        return
    first_lines: dict[int, int] = {}  # DuckDB's line of a record -> the file's line it starts on
    with _open(path, "rt", encoding="utf-8", errors="replace", newline="") as text:
        reader = csv.reader(text)
        next(reader, None)  # the header: line 1 for both
        previous, counted = reader.line_num, 1
        for row in reader:
            counted += 1
            if row:  # a blank line is no record, for either reader
                first_lines[counted] = previous + 1
            previous = reader.line_num
    lines = [line for counted, line in first_lines.items() if counted not in rejected]
    if len(lines) != readable or not rejected <= first_lines.keys():
        return
    import pyarrow as pa

    con.register(f"{relation}_lines", pa.table({"ordinal": list(range(1, readable + 1)), "line": lines}))
    con.register(
        f"{relation}_reject_lines",
        pa.table({"counted": sorted(rejected), "line": [first_lines[c] for c in sorted(rejected)]}),
    )
    try:
        con.execute(
            f"""
            create or replace temp table {relation} as
            select lines.line as _line, staged.* exclude (_line, ordinal)
            from (select row_number() over (order by _line) as ordinal, * from {relation}) as staged
            join {relation}_lines as lines using (ordinal)
            order by lines.line
            """
        )
        con.execute(
            f"""
            update {relation}_rejects set line = moved.line
            from {relation}_reject_lines as moved
            where {relation}_rejects.line = moved.counted
            """
        )
    finally:
        con.unregister(f"{relation}_lines")
        con.unregister(f"{relation}_reject_lines")


def _read_records(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    columns: tuple[str, ...],
    relation: str,
    lines: int | None = None,
) -> None:
    """The reader for one format; malformed CSV records go to `<relation>_rejects`."""
    cols = ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in columns)
    select_cols = ", ".join(f'"{c}"' for c in columns)
    con.execute(f"create or replace temp table {relation}_rejects (line bigint, reason varchar, record varchar)")
    if fmt == "csv":
        header = _read_header(path)
        if not header:
            raise ExportError(f"{path}: empty file (not even a header); expected columns: {', '.join(columns)}")
        _check_columns(path, header, columns)
        # DuckDB appends to an existing rejects table: start each file with none.
        con.execute(f"drop table if exists {relation}_rej_raw")
        con.execute(f"drop table if exists {relation}_rej_scan")
        con.execute(
            f"""
            create or replace temp table {relation} as
            select row_number() over () + 1 as _line, {select_cols}
            from read_csv({sql_str(str(path))}, columns = {{{cols}}}, header = true, auto_detect = false,
                          delim = ',', quote = '"', escape = '"',
                          ignore_errors = true, store_rejects = true, strict_mode = true,
                          rejects_table = '{relation}_rej_raw', rejects_scan = '{relation}_rej_scan',
                          parallel = false)
            """
        )
        con.execute(
            f"""
            insert into {relation}_rejects
            select line,
                   'malformed_csv_record: ' || string_agg(distinct lower(cast(error_type as varchar)), ', '),
                   any_value(csv_line)
            from {relation}_rej_raw
            group by line
            """
        )
        # Valid rows were numbered as if no record had been rejected; shift each by the number
        # of rejected records before it, so `_line` is the line in the file (header = line 1).
        # (A file without malformed records, the usual case, is numbered already: no second pass.)
        if con.execute(f"select count(*) from {relation}_rejects").fetchone()[0]:
            con.execute(
                f"""
                create or replace temp table {relation} as
                with rejected as (
                    select line - row_number() over (order by line) - 1 as valid_rows_before,
                           row_number() over (order by line) as rejected_so_far
                    from {relation}_rejects
                )
                select staged._line + coalesce(rejected.rejected_so_far, 0) as _line, staged.* exclude (_line)
                from {relation} as staged
                asof left join rejected on staged._line - 1 > rejected.valid_rows_before
                """
            )
        _number_by_physical_line(con, path, relation, lines)
    elif fmt == "parquet":
        described = con.execute(
            f"select name from parquet_schema({sql_str(str(path))}) where num_children is null"
        ).fetchall()
        _check_columns(path, [r[0] for r in described], columns)
        casts = ", ".join(f'cast("{c}" as varchar) as "{c}"' for c in columns)
        con.execute(
            f"create or replace temp table {relation} as "
            f"select row_number() over () as _line, {casts} from read_parquet({sql_str(str(path))})"
        )
    else:  # ndjson
        _check_ndjson_keys(con, path, columns)
        con.execute(
            f"""
            create or replace temp table {relation} as
            select row_number() over () as _line, {select_cols}
            from read_json({sql_str(str(path))}, columns = {{{cols}}}, format = 'newline_delimited',
                           ignore_errors = false)
            """
        )


def read_activity_file(path: Path) -> tuple[list[ViewingRow], list[Rejected]]:
    """A nightly export's viewing-activity file, parsed row by row (`rewatch.netflix`): its
    rows, and its rejected rows with their line and reason. A wrong header refuses the file."""
    try:
        return read_viewing_activity(path, EXPORT_COLUMNS)
    except ViewingActivityError as exc:
        raise ExportError(f"{exc}; ask the exporter to re-deliver it") from None
