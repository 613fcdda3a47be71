"""The plan stage: checked rules lowered into typed, resolved data that every engine runs.

``nodes`` holds one class per construct, ``lower`` builds a :class:`~kpidsl.plan.nodes.Plan`
from a checked rule set, ``visitor`` is the one way engines walk it, and ``status`` decides a
group's status from its counts for every engine.
"""
