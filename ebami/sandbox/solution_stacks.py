"""`ListAvailableSolutionStacks` in the sandbox: the solution stacks of the platform versions it
seeded and released, newest first, where moto answers a fixed list of its own.

The answer's shape is the API reference's: `SolutionStacks` (names) and `SolutionStackDetails`
(`SolutionStackName`, `PermittedFileTypes`). The EB CLI's `eb platform list` and its platform
lookups read it. Docker platforms take a source bundle (`zip`) or a bare `Dockerrun.aws.json`
(`json`).
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.elasticbeanstalk.responses import EBResponse

from ebami.image.lookup import version_key
from ebami.sandbox.eb_requests import request_state
from ebami.sandbox.patching import replace

PERMITTED_FILE_TYPES = ["zip", "json"]


@replace(
    EBResponse,
    "ListAvailableSolutionStacks",
    gap="moto answers a fixed list of its own solution stacks, not the platforms the sandbox "
    "seeded",
)
def list_available_solution_stacks(self: EBResponse) -> ActionResult:
    descriptions = [record["description"] for record in request_state(self).platforms]
    newest_first = sorted(
        descriptions,
        key=lambda d: (d["PlatformName"], version_key(d["PlatformVersion"])),
        reverse=True,
    )
    names = [str(d["SolutionStackName"]) for d in newest_first]
    return ActionResult(
        {
            "SolutionStacks": names,
            "SolutionStackDetails": [
                {"SolutionStackName": name, "PermittedFileTypes": list(PERMITTED_FILE_TYPES)}
                for name in names
            ],
        }
    )
