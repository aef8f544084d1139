"""One module per task: how its data and target are built, and its extras."""
