"""An EC2 resource's tags read by id (ebami.sandbox.ec2_tags) match moto's own scan of every
tag: images, their snapshots and instances alike."""

from __future__ import annotations

import boto3
from moto import mock_aws
from moto.backends import get_backend
from moto.ec2.models.core import TaggedEC2Resource

from ebami.sandbox import ec2_tags

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
            assert ec2_tags.tags_of(backend, image_id) == scanned
        assert [t["key"] for t in ec2_tags.tags_of(backend, ids[0])] == [
            "ebami:managed",
            "ebami:verified",
        ]
        assert ec2_tags.tags_of(backend, ids[2]) == []


def test_snapshots_and_instances_read_their_tags_by_id_too() -> None:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
        snapshots = [ec2.create_snapshot(VolumeId=volume)["SnapshotId"] for _ in range(2)]
        ec2.create_tags(Resources=[snapshots[0]], Tags=[{"Key": "ebami:managed", "Value": "1"}])
        backend = get_backend("ec2")[ACCOUNT]["us-east-1"]
        for snapshot_id in snapshots:
            snapshot = backend.snapshots[snapshot_id]
            assert ec2_tags.tags_of(backend, snapshot_id) == TaggedEC2Resource.get_tags(snapshot)
        assert ec2_tags.tags_of(backend, snapshots[0]) == [
            {
                "resource_id": snapshots[0],
                "key": "ebami:managed",
                "value": "1",
                "resource_type": "snapshot",
            }
        ]
        assert ec2_tags.tags_of(backend, volume) == TaggedEC2Resource.get_tags(
            backend.volumes[volume]
        )
