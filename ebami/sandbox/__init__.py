"""The sandbox: a local AWS (moto's server plus ebami's extensions) that rehearses the pipeline.

Nothing outside this package knows about moto's internals. `install_extensions()` loads the
modules that register patches and sets them on moto's classes. Importing this package imports
nothing else (ebami.sandbox.marker, and control, state_file, start_checks and clients, which
start, find, stop and reach a sandbox, stay free of moto).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ebami.sandbox.patching import Patch


def load_extensions() -> list[Patch]:
    """Import the modules that register patches (this imports moto); return every patch."""
    from ebami.sandbox import (
        calls,
        dispatch,
        eb_create,
        eb_draft_actions,
        eb_platform_branches,
        eb_storage,
        eb_validation,
        ec2,
        ec2_consistency,
        ec2_tags,
        elasticbeanstalk,
        health_actions,
        iam_enforcement,
        image_guards,
        image_references,
        images,
        parameter_validation,
        parameters,
        patching,
        platform_versions,
        routes,
        saved_configurations,
        solution_stacks,
        ssm,
        throttling,
        unsupported,
    )

    del calls, ec2, ec2_consistency, elasticbeanstalk, images, parameter_validation, parameters
    del platform_versions, routes, saved_configurations, ssm, throttling, unsupported
    del eb_platform_branches, eb_storage, eb_validation, solution_stacks, health_actions
    del dispatch, eb_draft_actions, ec2_tags, iam_enforcement, image_guards
    del image_references, eb_create
    return list(patching.PATCHES)


def install_extensions() -> None:
    from ebami.sandbox import patching, service_models

    load_extensions()
    patching.install()
    service_models.extend_models()
