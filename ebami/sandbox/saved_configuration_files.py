"""The file Elastic Beanstalk keeps of each saved configuration in its storage location.

The developer guide ("Using Elastic Beanstalk saved configurations"): a saved configuration is
"an object in Amazon S3", a YAML template of the environment's platform, tier, option settings
and tags, which `eb config get NAME` downloads. The EB CLI reads it at
`resources/templates/APPLICATION/NAME` in the `CreateStorageLocation` bucket, right after
`CreateConfigurationTemplate` (`eb config save`). Its layout follows the guide's example:
`EnvironmentConfigurationMetadata` (description, creation and modification times in epoch
milliseconds), `Platform.PlatformArn`, `OptionSettings` by namespace (the options the saved
configuration sets, not the defaults), `EnvironmentTier` and `AWSConfigurationTemplateVersion`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml

from ebami.sandbox import eb_storage
from ebami.sandbox.environments import EbState, SavedConfiguration

TEMPLATE_VERSION = "1.1.0.0"
WEB_SERVER_TIER = {"Type": "Standard", "Name": "WebServer"}


def template_key(application: str, name: str) -> str:
    return f"resources/templates/{application}/{name}"


def _millis(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def document(template: SavedConfiguration) -> str:
    """The saved configuration as the YAML file Elastic Beanstalk stores."""
    settings: dict[str, dict[str, str]] = {}
    for (namespace, name), value in sorted(template.options.items()):
        settings.setdefault(namespace, {})[name] = value
    content: dict[str, Any] = {
        "EnvironmentConfigurationMetadata": {
            "Description": template.description,
            "DateCreated": _millis(template.created),
            "DateModified": _millis(template.updated),
        },
        "Platform": {"PlatformArn": template.platform_arn},
        "OptionSettings": settings,
        "EnvironmentTier": dict(WEB_SERVER_TIER),
        "AWSConfigurationTemplateVersion": TEMPLATE_VERSION,
    }
    return str(yaml.safe_dump(content, sort_keys=False, default_flow_style=False))


def store(state: EbState, template: SavedConfiguration) -> None:
    """Write (or rewrite) the saved configuration's file."""
    key = template_key(template.application, template.name)
    eb_storage.put_file(state.account_id, state.region, key, document(template).encode())


def remove(state: EbState, template: SavedConfiguration) -> None:
    key = template_key(template.application, template.name)
    eb_storage.delete_file(state.account_id, state.region, key)
