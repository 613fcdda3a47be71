"""What evaluation produces: the report and its formats."""
