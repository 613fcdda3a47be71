"""The rule author's tools built on the library: tests written beside the rules."""
