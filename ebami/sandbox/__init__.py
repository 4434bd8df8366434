"""The sandbox: a local AWS (moto's server plus ebami's extensions) that rehearses the pipeline.

Nothing outside this package knows about moto's internals. `install_extensions()` loads the
modules that register patches and sets them on moto's classes.
"""

from __future__ import annotations


def install_extensions() -> None:
    from ebami.sandbox import ec2, elasticbeanstalk, patching, ssm, throttling

    del ec2, elasticbeanstalk, ssm, throttling  # imported for their registrations
    patching.install()
