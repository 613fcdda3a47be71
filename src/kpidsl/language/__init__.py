"""The rule language: text and spans, the grammar, the AST, the checker, the formatter."""
