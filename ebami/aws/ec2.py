"""EC2 calls ebami makes, named by intent: `Ec2`, one object for callers.

Its calls live in one part per intent: `ec2_images` (AMIs and their snapshots), `ec2_guards`
(EC2's own AMI guards), `ec2_instances` (instances and launch templates), `ec2_region` (subnets,
egress, instance types, regions, security groups, key pairs). The values they return are in
`ec2_values`.
"""

from __future__ import annotations

from ebami.aws.ec2_guards import Ec2Guards
from ebami.aws.ec2_images import Ec2Images
from ebami.aws.ec2_instances import Ec2Instances
from ebami.aws.ec2_region import Ec2Region


class Ec2(Ec2Images, Ec2Instances, Ec2Region, Ec2Guards):
    """Every EC2 call ebami makes, on one client (`Ec2(client)`)."""
