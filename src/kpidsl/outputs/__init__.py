"""What evaluation produces: the report and its formats, the diff of two rule sets on the same
data, and the pictures of the documentation (``diagrams``)."""
