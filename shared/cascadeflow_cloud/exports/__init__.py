"""Getting data out: CSV / JSON lines / Parquet files (and, later, FOCUS, OTel, Prometheus)."""
