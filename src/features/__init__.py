"""Feature pipelines: tabular preprocessing, text (jieba + TF-IDF), behaviour (Ibis on DuckDB or PySpark)."""
