"""`ebami iam policy|trust`: the IAM policy each job needs, for the settings in force, and the
trust policy of the workflows' roles."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import EnvsOption
from ebami.cli.present import View, present
from ebami.core.errors import InputError

if TYPE_CHECKING:
    from ebami.cli.factory import Factory
    from ebami.config.settings import Settings
    from ebami.iam.document import JobPolicy

app = typer.Typer(
    help="The IAM policies ebami's jobs need, and the workflows' trust policy.",
    no_args_is_help=True,
)

AccountOption = Annotated[
    str | None,
    typer.Option("--account", help="The AWS account id (default: the caller's, from STS)."),
]


def _account(factory: Factory, account: str | None) -> str:
    """`--account`, else the caller's (STS)."""
    from ebami.iam.scope import check_account

    if account is not None:
        return check_account(account)
    with factory.bounded(60.0):
        return factory.sts.account()


@app.command("policy")
def policy(
    ctx: typer.Context,
    job: Annotated[
        str,
        typer.Option(
            "--job",
            help="build, verify, apply, check, lifecycle, nightly (the nightly bake) or all.",
        ),
    ] = "all",
    account: AccountOption = None,
    env: EnvsOption = None,
    ssm_parameter: Annotated[
        list[str] | None,
        typer.Option(
            "--ssm-parameter", help="A parameter `build --ssm-parameter` writes; repeatable."
        ),
    ] = None,
    instance_profile: Annotated[
        str | None,
        typer.Option(
            "--instance-profile",
            help="The builder's and verify's instance profile (default: the setting).",
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="The role that profile holds (default: the profile's name)."),
    ] = None,
) -> None:
    """Print the IAM policy document each job needs, scoped to the settings in force."""
    from ebami.cli.factory import Factory
    from ebami.iam.document import job_policy
    from ebami.iam.scope import scope_of

    jobs = _jobs(job)
    app_context = AppContext.of(ctx)
    settings = app_context.settings()
    _check_names(settings, env or [], ssm_parameter or [])
    factory = Factory(app_context, settings)
    scope = scope_of(
        settings,
        account=_account(factory, account),
        region=_region(factory),
        environments=env or [],
        published=ssm_parameter or [],
        instance_profile=instance_profile,
        role=role,
    )
    present(app_context, _policies_view([job_policy(name, scope) for name in jobs]))


def _jobs(job: str) -> list[str]:
    from ebami.iam.calls import JOBS

    if job != "all" and job not in JOBS:
        raise InputError(f"--job {job!r} is not a job: give one of {', '.join(JOBS)} or all")
    return list(JOBS) if job == "all" else [job]


def _check_names(settings: Settings, environments: list[str], parameters: list[str]) -> None:
    """Refused before any call: an environment no `--env` can name, a parameter's bare name."""
    for name in environments:
        settings.environment_target(name)
    for name in parameters:
        if not name.startswith("/"):
            raise InputError(f"--ssm-parameter {name!r}: give the parameter's full path, /...")


def _policies_view(policies: list[JobPolicy]) -> View:
    """One document as it is (for `aws iam put-role-policy`), several each under its job's
    name; what a document cannot hold, and one over IAM's size limit, as notes."""
    from ebami.iam.document import MAX_MANAGED_POLICY

    if len(policies) == 1:
        text = json.dumps(policies[0].document, indent=2) + "\n"
    else:
        text = "\n\n".join(
            f"# {item.job}\n{json.dumps(item.document, indent=2)}" for item in policies
        )
        text += "\n"
    notes = [note for item in policies for note in item.notes] + [
        f"{item.job}: {item.size} characters, over IAM's {MAX_MANAGED_POLICY} for a managed "
        "policy: split it"
        for item in policies
        if item.size > MAX_MANAGED_POLICY
    ]
    return View(
        json={"policies": [item.to_json() for item in policies]},
        text=text,
        notes=list(dict.fromkeys(notes)),
    )


def _region(factory: Factory) -> str:
    region = factory.region
    if not region:
        raise InputError("no AWS region; pass --region, set region in ebami.toml, or AWS_REGION")
    return region


@app.command("trust")
def trust(
    ctx: typer.Context,
    repo: Annotated[str, typer.Option("--repo", help="The GitHub repository, OWNER/NAME.")],
    environment: Annotated[
        list[str] | None,
        typer.Option("--environment", help="A GitHub environment the role is for; repeatable."),
    ] = None,
    branch: Annotated[
        list[str] | None,
        typer.Option(
            "--branch",
            help="A branch the role is for (default: main unless "
            "--environment is given); repeatable.",
        ),
    ] = None,
    account: AccountOption = None,
) -> None:
    """Print the trust policy of a role GitHub's workflows assume over OIDC."""
    from ebami.cli.factory import Factory
    from ebami.iam.trust import subjects, trust_policy

    environments = environment or []
    branches = branch if branch is not None else ([] if environments else ["main"])
    subjects(repo, branches=branches, environments=environments)  # refused before any call
    app_context = AppContext.of(ctx)
    factory = Factory(app_context, app_context.settings())
    document = trust_policy(
        _account(factory, account), repo, branches=branches, environments=environments
    )
    present(app_context, View(json=document, text=json.dumps(document, indent=2) + "\n"))
