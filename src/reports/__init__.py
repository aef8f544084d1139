"""Tables and figures that the report notebooks call."""
