"""Members the real services answer that botocore's models lack, added to the models moto
serializes its answers with (moto leaves out every member its model does not name).

- Elastic Beanstalk's `ConfigurationSettingsDescription.Tier`: the service answers it with each
  configuration set (the EB CLI's own bundled model has the member), and `eb health` reads it
  for its banner; botocore's model leaves it out.

The shape check of the end-to-end suite allows exactly these members
(`tests/support/shapecheck/allowed.py`).
"""

from __future__ import annotations

from typing import Any

# (service, structure, member, the member's shape in the same model)
EXTRA_MEMBERS = (
    ("elasticbeanstalk", "ConfigurationSettingsDescription", "Tier", "EnvironmentTier"),
)


def extend_models() -> None:
    """Add `EXTRA_MEMBERS` to moto's cached service models (before any answer is serialized)."""
    from moto.core.utils import get_service_model

    for service, structure, member, shape in EXTRA_MEMBERS:
        resolver = get_service_model(service)._shape_resolver
        shapes: dict[str, Any] = resolver._shape_map  # type: ignore[attr-defined]
        shapes[structure]["members"].setdefault(member, {"shape": shape})
