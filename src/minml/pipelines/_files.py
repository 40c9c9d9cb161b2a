"""What every file job shares: the outputs checked before any work, the table read once,
and the results written beside the input's columns."""

from __future__ import annotations

from pathlib import Path

__all__ = ["Source", "prepare_outputs", "write_beside"]


class Source:
    """An input file and how to read it (:func:`minml.read_table`'s ``sheet``, ``header_row``,
    ``encoding``)."""

    def __init__(self, path, *, sheet=None, header_row=None, encoding=None):
        self.path = Path(path)
        self.sheet, self.header_row, self.encoding = sheet, header_row, encoding

    def default_output(self, dst, ending: str) -> Path:
        """``dst``, or a CSV file beside the input named INPUT + ``ending``."""
        return Path(dst) if dst is not None else self.path.with_name(self.path.stem + ending)

    def read(self, output: Path | None = None):
        """The table, as :func:`minml.read_table` reads it; refused, before any work, when
        ``output`` is an Excel file too small for it."""
        from minml.io import check_fits, read_table

        table = read_table(self.path, sheet=self.sheet, encoding=self.encoding, header_row=self.header_row)
        if output is not None:
            check_fits(output, len(table))
        return table

    @property
    def bom(self) -> bool:
        """Whether CSV output starts with a UTF-8 byte-order mark (:func:`minml.io.bom_for`)."""
        from minml.io import bom_for

        return bom_for(self.path, self.encoding)


def prepare_outputs(source: Source, table: Path | None, *others: Path | None) -> None:
    """Check, before any work, that the output ``table`` (a known extension) and the
    ``others`` (reports, figures: matplotlib must be there) can be written: existing
    folders, none of them the input or each other."""
    written = [_writable(table)] if table is not None else []
    written += [_writable(path, table=False) for path in others if path is not None]
    if any(path is not None for path in others):
        from minml.plot import require_matplotlib

        require_matplotlib()
    for i, path in enumerate(written):
        if source.path.exists() and path.exists() and path.samefile(source.path):
            raise ValueError(f"{str(path)!r} is the input; write to another file so that the input stays as it is.")
        if path.resolve() in {p.resolve() for p in written[:i]}:
            raise ValueError(f"{str(path)!r} is named for two outputs; give each its own file.")


def _writable(path, *, table: bool = True) -> Path:
    """:func:`minml.io.writable_path`, the system's refusal to look at ``path`` (a name too
    long for the file system) raised as :class:`minml.io._paths.CannotWrite` naming it."""
    from minml.io import writable_path
    from minml.io._paths import cannot_write

    try:
        return writable_path(path, table=table)
    except OSError as error:
        refused = cannot_write(error, path)
        if refused is error:
            raise
        raise refused from None


def write_beside(table, result, output: Path, *, bom: bool, prefix: str, progress: bool = False) -> bool:
    """Write the input's columns and the result's side by side to ``output`` (``bom``: as
    :func:`minml.write_table`), the result's named apart (:func:`named_apart`); returns
    whether they were prefixed."""
    import pandas as pd

    from minml.io import write_table

    names = named_apart(table.columns, result.columns, prefix)
    write_table(pd.concat([table, result.set_axis(names, axis=1)], axis=1), output, bom=bom, progress=progress)
    return names != list(result.columns)


def named_apart(columns, names, prefix: str) -> list[str]:
    """The result's column ``names``, all with ``prefix`` when one would overwrite an input
    column (an input labelled in a column ``mineral``): the input's columns are never replaced."""
    taken = set(columns)
    if not taken & set(names):
        return list(names)
    prefixed = [prefix + name for name in names]
    clash = [name for name in prefixed if name in taken]
    if clash:
        raise ValueError(f"The input already has columns {clash}; rename them so the results do not overwrite them.")
    return prefixed


def prefixed_note(prefix: str) -> str:
    """What a summary says when the result columns were prefixed."""
    return f" (result columns prefixed {prefix}: the input has some of the same names)"


def rows(count: int) -> str:
    """'1 row', '2 rows'."""
    return f"{count} row" + ("" if count == 1 else "s")


def analyses(count: int) -> str:
    """'1 analysis', '2 analyses'."""
    return f"{count} {'analysis' if count == 1 else 'analyses'}"


def merged_cells_hint(labels, column: str) -> str:
    """A hint when a label column looks like Excel's merged cells (a label, then blanks below
    it, block after block: the first row labelled, at least two labels, a third of the rows or
    more blank): nothing is filled in for the user."""
    from minml.chemistry.labels import is_label

    given = labels.map(is_label).to_numpy(dtype=bool)
    if not given[:1].any() or given.sum() < 2 or (~given).sum() < len(given) / 3:
        return ""
    return (
        f" (one label per block of rows, as merged cells leave them? fill them down first: in Excel "
        f"select the column, Go To Special > Blanks, ='cell above'; in pandas df[{column!r}].ffill())"
    )
