"""Getting data out: CSV / JSON lines / Parquet (``tabular``), FOCUS 1.2 (``focus`` and the
``focus_rules`` checker), usage records (``usage``), SQL with DuckDB (``sql``), Prometheus
(``prometheus``) and OpenTelemetry (``otel_metrics``; its spans come from
``cascadeflow_cloud.otel_spans``), all computed from the lake. Submodules import their heavy
dependencies; this package imports nothing."""
