"""The plan stage: checked rules lowered into typed, resolved data that every engine runs.

``nodes`` holds one class per construct, ``lower`` builds a :class:`~kpidsl.plan.nodes.Plan`
from a checked rule set, ``visitor`` is the one way engines walk it. What every engine shares:
``results`` (what evaluation gives, and the verdict loop and reporting hierarchy that make it),
``status`` (a group's status from its counts) and ``points`` (a schedule's point on a date).
"""
