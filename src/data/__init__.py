"""Loaders for data/raw (schema + checksum), the simulated tables, and the simulator."""
