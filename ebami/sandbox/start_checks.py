"""What `ebami sandbox start` (and `sandbox run`) refuses before anything starts: a region the
sandbox cannot serve, a fleet size out of range, a fault naming no environment of the world,
and a folder that cannot be made or written.
"""

from __future__ import annotations

import tempfile

from ebami.core.errors import InputError
from ebami.sandbox.faults import Faults
from ebami.sandbox.state_file import Folder

# The seed world needs these services in its region; its ARNs and IAM are the `aws` partition's.
REGION_SERVICES = ("ec2", "elasticbeanstalk", "ssm")
REGION_PARTITION = "aws"


def served_regions() -> list[str]:
    """The regions a sandbox can be seeded in: those moto's backends serve (botocore's list)
    for every service the world needs, in the partition the world's ARNs name."""
    # The endpoint data alone: a session would read the caller's AWS profile, which is none of
    # the sandbox's business (and may not exist).
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    served = [
        set(resolver.get_available_endpoints(service, partition_name=REGION_PARTITION))
        for service in REGION_SERVICES
    ]
    return sorted(set.intersection(*served))


def check_region(region: str) -> None:
    regions = served_regions()
    if region not in regions:
        raise InputError(
            f"--region {region} is not a region the sandbox serves: give an AWS region, one of "
            + ", ".join(regions)
        )


def check_fleet(fleet: int, faults: Faults) -> None:
    """Refuse a fleet size out of range, and a per-environment fault naming no environment of
    the world the sandbox would seed."""
    from ebami.sandbox import world

    if not 0 <= fleet <= world.FLEET_MAX:
        raise InputError(
            f"--fleet {fleet} is out of range: give a number of environments from 0 to "
            f"{world.FLEET_MAX}"
        )
    names = [*world.ENVIRONMENTS, *world.fleet_regions(fleet, world.SECOND_REGION)]
    named = [
        ("--fail-update-health-env (or EBAMI_SANDBOX_FAIL_UPDATE_HEALTH_ENVS)", name)
        for name in faults.update_fails_health_envs
    ]
    named += [
        ("--unrelated-health (or EBAMI_SANDBOX_UNRELATED_HEALTH)", name)
        for name, _ in faults.unrelated_health
    ]
    for flag, name in named:
        if name not in names:
            fleet_names = f", or fleet-01 to {names[-1]}" if fleet else " (no --fleet given)"
            raise InputError(
                f"{flag} {name} names no sandbox environment: give "
                f"{', '.join(world.ENVIRONMENTS)}{fleet_names}"
            )


def create_folder(folder: Folder) -> None:
    """Make the folder (and its parents) and make sure files can be written in it."""
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder.path):
            pass
    except FileExistsError:
        reason = "it is a file"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    else:
        return
    raise InputError(
        f"{folder.given_as}: cannot create or write the sandbox folder ({reason}); "
        "give a folder you can create and write to"
    )
