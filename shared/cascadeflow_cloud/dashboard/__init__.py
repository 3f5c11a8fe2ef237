"""The static cost dashboard and the report views it shares with ``report``.

* ``views`` — read the lake once, build each view as a ``present.Sheet`` (the same sheet,
  hence the same CSV bytes, as ``report --format csv`` for that view);
* ``data`` — pure assembly of the page's data (charts, budgets, reconciliation, findings);
* ``site`` — writes the HTML page, the CSV files and the vendored Apache ECharts.
"""
