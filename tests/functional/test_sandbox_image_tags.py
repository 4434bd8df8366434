"""An image's tags read by id (ebami.sandbox.image_tags) match moto's own scan of every tag."""

from __future__ import annotations

import boto3
from moto import mock_aws
from moto.backends import get_backend
from moto.ec2.models.core import TaggedEC2Resource

from ebami.sandbox import image_tags

ACCOUNT = "123456789012"


def test_tags_by_id_match_moto_scan_of_every_tag() -> None:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        ids = [
            ec2.register_image(Name=f"image-{n}", RootDeviceName="/dev/xvda")["ImageId"]
            for n in range(3)
        ]
        ec2.create_tags(Resources=ids[:2], Tags=[{"Key": "ebami:managed", "Value": "true"}])
        ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "ebami:verified", "Value": "now"}])
        backend = get_backend("ec2")[ACCOUNT]["us-east-1"]
        for image_id in ids:
            image = backend.amis[image_id]
            scanned = TaggedEC2Resource.get_tags(image)
            assert image_tags.tags_of(backend, image_id) == scanned
        assert [t["key"] for t in image_tags.tags_of(backend, ids[0])] == [
            "ebami:managed",
            "ebami:verified",
        ]
        assert image_tags.tags_of(backend, ids[2]) == []
