"""Build's fakes: the SSM its lease lives in, the EC2 its planner reads and its clean-up
changes, and the AWS CLI commands it writes for what it leaves behind."""

from __future__ import annotations

import fnmatch
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ebami.aws.ec2_values import Image, Instance, KeyPair, SecurityGroup
from ebami.aws.ssm import ParameterVersion
from ebami.core.errors import AccessDenied, NotFoundError


@dataclass
class LeaseSsm:
    """Parameters in a dict, with PutParameter's create-if-absent; `denied` refuses all."""

    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, Mapping[str, str]] = field(default_factory=dict)
    denied: bool = False
    # The values published to each parameter, oldest first (its history).
    published: dict[str, list[str]] = field(default_factory=dict)

    def create_parameter(
        self, name: str, value: str, *, description: str, tags: Mapping[str, str]
    ) -> bool:
        self._check()
        if name in self.parameters:
            return False
        self.parameters[name] = value
        self.tags[name] = dict(tags)
        return True

    def parameter_value(self, name: str) -> str | None:
        self._check()
        return self.parameters.get(name)

    def delete_parameter(self, name: str) -> bool:
        self._check()
        return self.parameters.pop(name, None) is not None

    def publish_image_id(self, name: str, image_id: str) -> int:
        self.parameters[name] = image_id
        self.published.setdefault(name, []).append(image_id)
        return len(self.published[name])

    def history(self, name: str) -> list[ParameterVersion]:
        return [
            ParameterVersion(name, number, value, "aws:ec2:image", None)
            for number, value in enumerate(self.published.get(name, []), 1)
        ]

    def _check(self) -> None:
        if self.denied:
            raise AccessDenied("ssm:PutParameter /ebami/leases/x: access denied (no); grant it")


class Cli:
    """AWS CLI commands as `ebami.aws.session.AwsCli` writes them, for us-east-1."""

    def command(self, service: str, operation: str, *args: str) -> str:
        return shlex.join(["aws", service, operation, *args, "--region", "us-east-1"])


@dataclass
class BuildEc2:
    """The AMIs, instances, security groups and key pairs a build finds (by id, tag or name
    pattern); what it tags, shares and deletes is kept."""

    images: dict[str, Image] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    groups: list[SecurityGroup] = field(default_factory=list)
    keys: list[KeyPair] = field(default_factory=list)
    tagged: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)
    shared: list[tuple[str, list[str]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def get_image(self, image_id: str) -> Image:
        if image_id not in self.images:
            raise NotFoundError(f"AMI {image_id} does not exist")
        return self.images[image_id]

    def find_images_by_tag(self, key: str, value: str) -> list[Image]:
        return [i for i in self.find_own_images_by_tag(key, value) if i.state == "available"]

    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]:
        return [i for i in self.images.values() if i.tags.get(key) == value]

    def find_unfinished_images(self, name_pattern: str) -> list[Image]:
        return [
            i
            for i in self.images.values()
            if fnmatch.fnmatch(i.name, name_pattern) and i.state in ("pending", "failed")
        ]

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]:
        return [i for i in self.instances if i.tags.get(key) == value]

    def find_security_groups(self, name_pattern: str) -> list[SecurityGroup]:
        return [g for g in self.groups if fnmatch.fnmatch(g.name, name_pattern)]

    def find_key_pairs(self, name_pattern: str) -> list[KeyPair]:
        return [k for k in self.keys if fnmatch.fnmatch(k.name, name_pattern)]

    def delete_image(self, image: Image) -> None:
        self.deleted.append(image.image_id)
        del self.images[image.image_id]

    def share_image(self, image_id: str, account_ids: Sequence[str]) -> None:
        self.shared.append((image_id, list(account_ids)))

    def snapshot_tags(self, snapshot_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        return {sid: {} for sid in snapshot_ids}

    def tag_resources(self, ids: list[str], tags: dict[str, str]) -> None:
        self.tagged.append((ids, tags))
