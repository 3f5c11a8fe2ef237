"""Getting data out: CSV / JSON lines / Parquet (``tabular``), FOCUS 1.2 (``focus``, with
each cloud's own FOCUS values in ``focus_rules``), usage records (``usage``), SQL with DuckDB
(``sql``), Prometheus (``prometheus``) and OpenTelemetry (``otel_metrics``; its spans come from
``cascadeflow_cloud.otel_spans``), all computed from the lake. Submodules import their heavy
dependencies; this package imports nothing."""
