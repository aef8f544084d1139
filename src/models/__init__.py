"""Models, evaluation (splits, metrics, intervals) and the MLflow registry."""
