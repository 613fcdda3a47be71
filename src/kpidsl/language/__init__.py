"""The rule language: rule text (``source``), the grammar (``kpi.lark``) and ``parser``, the
``ast``, the ``checker`` (with ``expressions`` and the ``builtins``), rule sets as files
(``rulesets``), the ``formatter`` and the highlighting ``lexer``; the rules in plain words
(``words``), prose checked against them (``prose``) and what changed between two rule sets
(``changes``); and the words results are reported in (``vocabulary``)."""
