"""`ebami sandbox start|status|stop|release|run`: a local AWS for rehearsals and tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext, OutputFormat
from ebami.cli.present import View, present
from ebami.core.errors import ConfigError, InputError, NotFoundError

if TYPE_CHECKING:
    from ebami.cli.sandbox_iam import JobUser
    from ebami.sandbox.faults import Faults
    from ebami.sandbox.leaks import LeakReport
    from ebami.sandbox.state_file import Folder, SandboxInfo

app = typer.Typer(
    help="A local AWS (moto plus ebami's extensions) that runs the pipeline offline.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="The sandbox's folder (default: EBAMI_SANDBOX_DIR or ~/.local/state/ebami/sandbox).",
        file_okay=False,
    ),
]
RegionOption = Annotated[str, typer.Option("--region", help="The region the world is seeded in.")]
ThrottleOption = Annotated[
    float | None,
    typer.Option("--throttle", help="Fault: throttle this fraction of API calls (0 to <1)."),
]
SsmOfflineOption = Annotated[
    bool | None,
    typer.Option("--ssm-offline/--ssm-online", help="Fault: SSM agents lose their connection."),
]
FailHealthOption = Annotated[
    bool | None,
    typer.Option("--fail-update-health/--pass-update-health", help="Fault: updates end Red."),
]
FailHealthEnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-update-health-env",
        help="Fault: updates of the environment of this name end Red (repeatable).",
        metavar="NAME",
    ),
]
PendingOption = Annotated[
    int | None,
    typer.Option("--ami-pending-polls", help="Fault: new AMIs stay pending for N polls."),
]
StallOption = Annotated[
    bool | None,
    typer.Option(
        "--stall-updates/--no-stall-updates",
        help="Fault: AMI updates stay Updating until aborted.",
    ),
]
UnrelatedHealthOption = Annotated[
    list[str] | None,
    typer.Option(
        "--unrelated-health",
        help="Fault: hold the environment ENV at Warning or Degraded for HTTP 5xx unrelated to "
        "its AMI, e.g. prod=Warning (repeatable).",
        metavar="ENV=LEVEL",
    ),
]
RealismOption = Annotated[
    str | None,
    typer.Option(
        "--realism",
        help="How much like AWS the sandbox behaves: 'aws' (default), 'off', or either then "
        "KEY=VALUE items, e.g. 'off,late-events=5' (keys: configuration-drafts, "
        "health-vocabulary, late-events, parameter-validation, ec2-not-found).",
        metavar="SPEC",
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the throttling fault's dice.")]
FleetOption = Annotated[
    int,
    typer.Option(
        "--fleet",
        help="Add N environments fleet-01 ... fleet-NN like staging: the first half in the "
        "sandbox's region, the rest in us-west-2 (us-east-1 when the region is us-west-2).",
    ),
]


def _require_moto() -> None:
    import importlib.util

    if importlib.util.find_spec("moto") is None:
        raise ConfigError(
            "the sandbox needs moto, which is in ebami's 'sandbox' extra: "
            "pip install 'ebami[sandbox]'"
        )


def _folder(app_context: AppContext, directory: Path | None) -> Folder:
    from ebami.sandbox.state_file import Folder

    return Folder.resolve(directory, app_context.environ)


def _faults(
    app_context: AppContext,
    throttle: float | None,
    ssm_offline: bool | None,
    fail_health: bool | None,
    pending: int | None,
    stall: bool | None,
    fail_health_envs: list[str] | None,
    realism: str | None,
    unrelated_health: list[str] | None = None,
) -> Faults:
    from ebami.sandbox.faults import Faults

    return Faults.from_sources(
        app_context.environ,
        throttle=throttle,
        ssm_offline=ssm_offline,
        update_fails_health=fail_health,
        ami_pending_polls=pending,
        update_stalls=stall,
        update_fails_health_envs=tuple(fail_health_envs) if fail_health_envs else None,
        realism=realism,
        unrelated_health=tuple(unrelated_health) if unrelated_health else None,
    )


def _running(app_context: AppContext, directory: Path | None) -> SandboxInfo:
    """The sandbox running in the folder; NotFoundError when none does."""
    from ebami.sandbox import state_file

    folder = _folder(app_context, directory).path
    info = state_file.read_state(folder)
    if info is None:
        raise NotFoundError(
            f"no sandbox is running in {folder}; start one with 'ebami sandbox start'"
        )
    return info


@app.command("start")
def start(
    ctx: typer.Context,
    directory: DirOption = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: a free one).")] = 0,
    region: RegionOption = "us-east-1",
    throttle: ThrottleOption = None,
    ssm_offline: SsmOfflineOption = None,
    fail_update_health: FailHealthOption = None,
    fail_update_health_env: FailHealthEnvOption = None,
    ami_pending_polls: PendingOption = None,
    stall_updates: StallOption = None,
    unrelated_health: UnrelatedHealthOption = None,
    realism: RealismOption = None,
    seed: SeedOption = 0,
    fleet: FleetOption = 0,
    enforce_iam: Annotated[
        bool,
        typer.Option(
            "--enforce-iam",
            help="IAM authorizes each request: one user per job with exactly its "
            "`ebami iam policy`; the exported key is the account's root.",
        ),
    ] = False,
) -> None:
    """Start a sandbox in the background and print the variables that point clients at it.

    Use it as: eval "$(ebami sandbox start)"
    """
    from ebami.sandbox import control

    _require_moto()
    app_context = AppContext.of(ctx)
    faults = _faults(
        app_context, throttle, ssm_offline, fail_update_health, ami_pending_polls,
        stall_updates, fail_update_health_env, realism, unrelated_health,
    )  # fmt: skip
    folder = _folder(app_context, directory)
    began = time.monotonic()
    info = control.start_background(
        folder, port=port, region=region, faults=faults, seed=seed, fleet=fleet,
        enforce_iam=enforce_iam, progress=app_context.terminal.progress,
    )  # fmt: skip
    users = _job_users(info) if enforce_iam else []
    present(app_context, _started_view(info, faults, users, time.monotonic() - began))


def _started_view(info: SandboxInfo, faults: Faults, users: list[JobUser], took: float) -> View:
    from ebami.sandbox import clients

    environment = clients.client_environment(info.endpoint, info.region)
    return View(
        json={
            **info.to_json(),
            "environment": environment,
            "iam_users": [user.to_json() for user in users],
        },
        text=clients.export_lines(info) + "\n",
        success=f"sandbox ready at {info.endpoint} (pid {info.pid}) in {took:.1f} s",
        notes=[f"fault injected: {phrase}" for phrase in faults.active]
        + [f"like AWS: {phrase}" for phrase in faults.realism.active]
        + _iam_notes(info, users),
    )


def _job_users(info: SandboxInfo) -> list[JobUser]:
    """The job users of a sandbox started with --enforce-iam; a failure stops the sandbox."""
    from ebami.cli.sandbox_iam import create_job_users
    from ebami.sandbox import control

    try:
        return create_job_users(info)
    except BaseException:
        control.stop(Path(info.directory))
        raise


def _iam_notes(info: SandboxInfo, users: list[JobUser]) -> list[str]:
    if not users:
        return []
    from ebami.cli.sandbox_iam import CREDENTIALS_FILE

    path = Path(info.directory) / CREDENTIALS_FILE
    return [
        "IAM enforced: the exported key is the account's root user; each job's user has exactly "
        f"its `ebami iam policy` ({', '.join(user.profile for user in users)}), keys in {path} "
        f"(AWS_SHARED_CREDENTIALS_FILE={path} AWS_PROFILE=ebami-apply, with AWS_ACCESS_KEY_ID "
        "unset)"
    ]


@app.command("status")
def status(ctx: typer.Context, directory: DirOption = None) -> None:
    """Show the running sandbox, its injected faults and what runs left in it (with their tags)."""
    from ebami.sandbox import clients
    from ebami.sandbox.leaks import leak_report

    app_context = AppContext.of(ctx)
    info = _running(app_context, directory)
    leaks = leak_report(clients.ec2_client(info.endpoint, info.region))
    present(app_context, _status_view(info, leaks))


def _status_view(info: SandboxInfo, leaks: LeakReport) -> View:
    from ebami.sandbox.world import describe_fleet, fleet_regions

    # One row per kind of leftover: each names its resources with the tags of the run behind them.
    leak_rows = [("leaks" if row == 0 else "", line) for row, line in enumerate(leaks.lines())]
    return View(
        json={
            **info.to_json(),
            "faults_active": info.faults.active,
            "realism_active": info.faults.realism.active,
            "fleet_regions": fleet_regions(info.fleet, info.region),
            "leaks": leaks.to_json(),
        },
        text=[
            ("endpoint", info.endpoint),
            ("pid", str(info.pid)),
            ("region", info.region),
            ("folder", info.directory),
            ("up", f"{time.time() - info.started:.0f} s"),
            ("faults", "; ".join(info.faults.active) or "none"),
            ("like AWS", "; ".join(info.faults.realism.active) or "no: answers at once"),
            ("fleet", describe_fleet(info.fleet, info.region)),
            *leak_rows,
        ],
    )


@app.command("stop")
def stop(ctx: typer.Context, directory: DirOption = None) -> None:
    """Stop the sandbox (its server, instance scripts and instance roots)."""
    from ebami.sandbox import control

    app_context = AppContext.of(ctx)
    folder = _folder(app_context, directory).path
    info = control.stop(folder, progress=app_context.terminal.progress)
    if info is None:
        app_context.terminal.progress(f"no sandbox was running in {folder}")
        return
    app_context.terminal.success(f"sandbox stopped (pid {info.pid}, {info.endpoint})")


@app.command("release")
def release(
    ctx: typer.Context,
    directory: DirOption = None,
    platform: Annotated[
        str, typer.Option("--platform", help="The platform: alias or full Elastic Beanstalk name.")
    ] = "multicontainer-docker",
    release: Annotated[
        str | None,
        typer.Option(
            "--release", help="Follow the newest version of this OS release (default: newest)."
        ),
    ] = None,
) -> None:
    """Add a platform version with a new base AMI to the running sandbox, as when AWS ships one.

    The new version is the newest one (of --release) with its patch number plus one.
    """
    from ebami.image.platforms import resolve_platform
    from ebami.sandbox.release import release_platform

    app_context = AppContext.of(ctx)
    try:
        spec = resolve_platform(platform)
    except InputError as exc:
        raise InputError(f"--platform: {exc}") from None
    if release is not None:
        try:
            spec.validate_release(release)
        except InputError as exc:
            raise InputError(f"--release: {exc}") from None
    info = _running(app_context, directory)
    added = release_platform(info.endpoint, spec.alias, release)
    if app_context.output is OutputFormat.JSON:
        app_context.terminal.out_json(added)
        return
    app_context.terminal.out_text(
        f"released {added['platform_name']} {added['platform_version']} "
        f"(OS {added['os_version']}): base AMI {added['image_id']}\n"
    )


@app.command(
    "run",
    context_settings={"allow_interspersed_args": False},
)
def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help="The command to run, after '--'.")],
    region: RegionOption = "us-east-1",
    throttle: ThrottleOption = None,
    ssm_offline: SsmOfflineOption = None,
    fail_update_health: FailHealthOption = None,
    fail_update_health_env: FailHealthEnvOption = None,
    ami_pending_polls: PendingOption = None,
    stall_updates: StallOption = None,
    unrelated_health: UnrelatedHealthOption = None,
    realism: RealismOption = None,
    seed: SeedOption = 0,
    fleet: FleetOption = 0,
) -> None:
    """Run one command against a sandbox made for it: ebami sandbox run -- ebami lookup"""
    from ebami.sandbox.ephemeral import run_in_sandbox

    _require_moto()
    app_context = AppContext.of(ctx)
    faults = _faults(
        app_context,
        throttle,
        ssm_offline,
        fail_update_health,
        ami_pending_polls,
        stall_updates,
        fail_update_health_env,
        realism,
        unrelated_health,
    )
    outcome = run_in_sandbox(
        command,
        region=region,
        faults=faults,
        seed=seed,
        fleet=fleet,
        progress=app_context.terminal.progress,
    )
    if not outcome.leaks.clean:
        app_context.terminal.warn("left behind in the sandbox: " + "; ".join(outcome.leaks.lines()))
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)
