"""Money and tables for people: the one shape the CLI, Slack, alert texts and reports share.

Pure (no I/O, standard library only). Data keeps exact decimals; only what a person reads is
rounded here, half-to-even, to the currency's ISO 4217 minor units (USD / EUR 2, JPY 0,
KWD / BHD 3; an unknown code gets 2 and is still shown). The convention is the amount with
thousands separators, a space, then the ISO code — never a symbol, so ``$`` cannot be
mistaken for another dollar:

>>> format_money(Decimal("1000"), "USD"), format_money(Decimal("-1234.565"), "EUR")
('1,000.00 USD', '-1,234.56 EUR')
>>> format_money(Decimal("1200.5"), "JPY"), format_money(Decimal("1.2345"), "KWD")
('1,200 JPY', '1.234 KWD')
>>> print(render_table(["model", "spend"], [["a", "1.50"], ["bb", "12.00"]], right={1}))
model  spend
-----  -----
a       1.50
bb     12.00
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

#: ISO 4217 minor-unit exponents that are not 2 (every other code, known or not, gets 2).
MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "MGA": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0,
    "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
#: Enough digits to round any stored amount (and any sum of them) without an inexact result.
_DISPLAY = Context(prec=80)
NONE = "—"


def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` (ISO 4217 exponent; 2 when unknown).

    >>> minor_units("usd"), minor_units("JPY"), minor_units("KWD"), minor_units("XYZ")
    (2, 0, 3, 2)
    """
    return MINOR_UNITS.get(currency.strip().upper(), 2)


def _shown(amount: Decimal | int | str | None, currency: str) -> Decimal | None:
    """``amount`` rounded half-to-even to the minor units, or None when it is no number."""
    if amount is None:
        return None
    try:
        value = Decimal(amount) if isinstance(amount, Decimal | int) else Decimal(str(amount))
        if not value.is_finite():
            return None
        shown = value.quantize(Decimal(1).scaleb(-minor_units(currency)),
                               rounding=ROUND_HALF_EVEN, context=_DISPLAY)
    except (InvalidOperation, ValueError):
        return None
    return abs(shown) if shown.is_zero() else shown  # a rounded-away credit is 0.00, not -0.00


def format_amount(amount: Decimal | int | str | None, currency: str, *,
                  signed: bool = False) -> str:
    """The amount alone (for a table with a currency column): minor units, separators.

    ``None`` is ``—``; text that is not a finite number is shown as it is, never hidden.
    ``signed`` puts ``+`` on amounts that are not negative (a change, a delta).

    >>> format_amount(Decimal("999999999999.995"), "USD"), format_amount("-0.001", "USD")
    ('1,000,000,000,000.00', '0.00')
    >>> format_amount("60", "USD", signed=True), format_amount(None, "USD")
    ('+60.00', '—')
    """
    shown = _shown(amount, currency)
    if shown is None:
        return NONE if amount is None else str(amount)
    return format(shown, "+,f" if signed else ",f")


def format_money(amount: Decimal | int | str | None, currency: str, *,
                 signed: bool = False) -> str:
    """The amount and its ISO code: ``1,234.50 USD`` (no code when ``currency`` is empty).

    >>> format_money(Decimal("-25"), "usd"), format_money("5", "USD", signed=True)
    ('-25.00 USD', '+5.00 USD')
    >>> format_money("3.14159", "XYZ"), format_money("7", ""), format_money("n/a", "USD")
    ('3.14 XYZ', '7.00', 'n/a')
    """
    text = format_amount(amount, currency, signed=signed)
    code = currency.strip().upper()
    return f"{text} {code}" if code and _shown(amount, currency) is not None else text


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                 right: Collection[int] = (), footer: Sequence[Sequence[str]] = ()) -> str:
    """A plain-text table: a header, a rule, the rows, then (after a rule) the footer rows.

    Columns whose index is in ``right`` (numbers, money) are right-aligned, the rest left;
    cells are already-formatted text and trailing spaces are dropped.

    >>> print(render_table(["k", "n"], [["a", "1"]], right={1}, footer=[["TOTAL", "1"]]))
    k      n
    -----  -
    a      1
    -----  -
    TOTAL  1
    """
    table = [list(header), *map(list, rows), *map(list, footer)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                         for i, c in enumerate(row)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(header), rule, *(line(r) for r in rows)]
    if footer:
        out += [rule, *(line(r) for r in footer)]
    return "\n".join(out)


#: What a cell may hold: text, a count, an exact amount, a share (float) or nothing.
Cell = str | int | Decimal | float | None
#: The report formats (``report --format``); ``csv`` is what a spreadsheet opens.
FORMATS = ("table", "csv", "json", "markdown")
#: Written first in every CSV so Excel reads it as UTF-8 (team and customer names may be
#: any language); pandas' ``read_csv(encoding="utf-8-sig")`` and LibreOffice skip it.
CSV_BOM = "\ufeff"


@dataclass(frozen=True)
class Sheet:
    """A table of data for people and spreadsheets: one shape, four renderings.

    ``money`` maps a money column to the column holding its currency; the data keeps exact
    decimals and only ``text`` / ``markdown`` round them (``format_amount``). CSV and JSON
    keep every stored digit, so a spreadsheet's sum is the lake's sum; ``footer`` rows
    (per-currency totals) are shown in text and markdown only, never in CSV, so a column sum
    counts nothing twice.

    >>> s = Sheet("Spend", ("team", "currency", "billed"), [("a", "USD", Decimal("1.005"))],
    ...           money={2: 1})
    >>> print(s.text())
    team  currency  billed
    ----  --------  ------
    a     USD         1.00
    >>> s.csv() == CSV_BOM + "team,currency,billed\\r\\na,USD,1.005\\r\\n"
    True
    """

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    money: dict[int, int] = field(default_factory=dict)
    footer: list[tuple[Cell, ...]] = field(default_factory=list)
    empty: str = "(nothing in this range)"

    def shown(self, row: Sequence[Cell]) -> list[str]:
        """A row's cells as people read them (money rounded, shares as %, ``—``)."""
        out = []
        for i, value in enumerate(row):
            if i in self.money and isinstance(value, Decimal | int) and \
                    not isinstance(value, bool):
                out.append(format_amount(value, str(row[self.money[i]] or "")))
            elif isinstance(value, float):
                out.append(f"{value:.1%}")
            elif isinstance(value, int):
                out.append(f"{value:,}")
            else:
                out.append(NONE if value is None else str(value))
        return out

    def right_aligned(self) -> set[int]:
        """Columns of numbers and money (right-aligned)."""
        sample = [*self.rows, *self.footer]
        return {i for i in range(len(self.columns))
                if i in self.money or any(isinstance(r[i], int | float | Decimal)
                                          for r in sample)}

    def text(self) -> str:
        """A plain-text table (``render_table``); money in minor units, shares as %."""
        table = render_table(self.columns, [self.shown(r) for r in self.rows],
                             right=self.right_aligned(),
                             footer=[self.shown(r) for r in self.footer])
        return table if self.rows else f"{table}\n{self.empty}"

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown table (``|`` in cells escaped), footer rows in bold."""
        right = self.right_aligned()

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        out = [line(self.columns),
               "|" + "|".join("---:" if i in right else "---" for i in
                              range(len(self.columns))) + "|"]
        out += [line(self.shown(r)) for r in self.rows]
        out += [line([f"**{c}**" if c else c for c in self.shown(r)]) for r in self.footer]
        return "\n".join(out)

    def records(self) -> list[dict[str, Cell]]:
        """Rows as dicts with money as exact decimal strings (JSON-ready)."""
        return [{c: (_plain(v) if isinstance(v, Decimal) else v)
                 for c, v in zip(self.columns, r, strict=True)} for r in self.rows]

    def json(self) -> str:
        """``{"title", "columns", "rows": [{column: value}]}``; money as decimal strings."""
        import json

        return json.dumps({"title": self.title, "columns": list(self.columns),
                           "rows": self.records()}, ensure_ascii=False, indent=1)

    def csv(self) -> str:
        """RFC 4180 CSV (CRLF), UTF-8 with a byte-order mark (``CSV_BOM``); money exact,
        no thousands separators; an empty cell is nothing known; no total rows."""
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if v is None else _plain(v) if isinstance(v, Decimal)
                             else repr(v) if isinstance(v, float) else v for v in row])
        return CSV_BOM + buffer.getvalue()

    def render(self, fmt: str) -> str:
        """The sheet in ``fmt`` (one of ``FORMATS``); text and markdown start with the title.

        >>> Sheet("t", ("a",), []).render("pdf")
        Traceback (most recent call last):
        ...
        ValueError: unknown format 'pdf'; choose one of table, csv, json, markdown
        """
        if fmt == "table":
            return f"{self.title}\n{self.text()}"
        if fmt == "markdown":
            return f"**{self.title}**\n\n{self.markdown()}"
        if fmt == "csv":
            return self.csv()
        if fmt == "json":
            return self.json()
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _plain(amount: Decimal) -> str:
    """An exact amount without exponent or trailing zeros: ``1.5``, ``-0.000000000001``.

    >>> _plain(Decimal("1.500000000000")), _plain(Decimal("0E-12")), _plain(Decimal("1E+3"))
    ('1.5', '0', '1000')
    """
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
