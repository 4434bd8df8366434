"""The sandbox: a local AWS (moto's server plus ebami's extensions) that rehearses the pipeline.

Nothing outside this package knows about moto's internals. `install_extensions()` loads the
modules that register patches and sets them on moto's classes. Importing this package imports
nothing else (ebami.sandbox.marker and ebami.sandbox.control stay free of moto).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ebami.sandbox.patching import Patch


def load_extensions() -> list[Patch]:
    """Import the modules that register patches (this imports moto); return every patch."""
    from ebami.sandbox import (
        ec2,
        elasticbeanstalk,
        images,
        parameters,
        patching,
        routes,
        saved_configurations,
        ssm,
        throttling,
    )

    del ec2, elasticbeanstalk, images, parameters, routes, saved_configurations, ssm, throttling
    return list(patching.PATCHES)


def install_extensions() -> None:
    from ebami.sandbox import patching

    load_extensions()
    patching.install()
