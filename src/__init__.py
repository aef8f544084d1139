"""Telecom customer profiling (客户画像): a reproducible research project."""
