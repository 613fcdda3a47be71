"""The data model and its inputs: typed records, the CSV contract, synthetic data."""
