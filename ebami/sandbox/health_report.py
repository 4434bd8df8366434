"""What enhanced health reports, for an environment and for each of its instances, at a moment
of the sandbox's clock, and the "Environment health has transitioned" events when it changes.

`ebami.sandbox.health` settles what the instances are (a driver the application needs and the
agent does not allow: Severe); this module says how Elastic Beanstalk shows it. Words and
wording are AWS's ("Health colors and statuses" in the Elastic Beanstalk developer guide, the
EB CLI's `eb health` examples, botocore's `EnvironmentHealthStatus` and `EnvironmentHealth`):

- statuses NoData, Unknown, Pending, Ok, Info, Warning, Degraded, Severe, Suspended; colours
  Green (Ok, Info), Yellow (Warning), Red (Degraded, Severe), Grey (the others). While an update
  runs the colour is Grey ("health checks are suspended during an UpdateEnvironment") unless a
  problem shows.
- With `realism.health_vocabulary` on: an update is Pending until its first step, then Info
  ("Configuration update in progress on N instances. K out of M instances completed (running
  for S seconds)."; an update of settings alone: "Command is executing on all instances.");
  after it the environment is Info for `INFO_SECONDS` ("Configuration update completed S
  seconds ago and took T seconds."), then Ok. An instance an update launched is Pending for
  `PENDING_SECONDS` ("Performing initialization (running for S seconds)."), Info while its
  health is not settled yet, then Ok ("Initialization completed S seconds ago and took T
  seconds." for `INFO_SECONDS`) or Severe with its cause. With the switch off: Green/Ok and
  Red/Severe only, as settled.
- The unrelated-health fault (`Faults.unrelated_health`) holds an environment at Warning or
  Degraded with the documented cause "N% of the requests to the ELB are failing with HTTP
  5xx.": failures counted at the load balancer, so the instances' health agents stay Ok.
"""

from __future__ import annotations

from dataclasses import dataclass

from ebami.sandbox import runtime
from ebami.sandbox.environments import UPDATE_STEP_SECONDS, EbState, SandboxEnvironment, Update

COLOURS = {
    "NoData": "Grey", "Unknown": "Grey", "Pending": "Grey", "Suspended": "Grey",
    "Ok": "Green", "Info": "Green", "Warning": "Yellow", "Degraded": "Red", "Severe": "Red",
}  # fmt: skip
# How bad a status is, to pick the worse of two.
_RANK = {
    "Ok": 0, "Info": 1, "NoData": 2, "Unknown": 2, "Pending": 2, "Suspended": 2,
    "Warning": 3, "Degraded": 4, "Severe": 5,
}  # fmt: skip
PENDING_SECONDS = UPDATE_STEP_SECONDS
INFO_SECONDS = 2 * UPDATE_STEP_SECONDS
# The share of requests failing with HTTP 5xx that holds an environment at each level (the
# sandbox's own numbers; AWS does not publish its thresholds).
UNRELATED_5XX = {"Warning": 5, "Degraded": 25}


@dataclass(frozen=True)
class Reported:
    status: str
    color: str
    causes: tuple[str, ...] = ()


def instance_health(env: SandboxEnvironment, instance_id: str, now: float) -> Reported:
    """What enhanced health reports for one of the environment's instances at `now`."""
    settled = env.instance_health.get(instance_id)
    cause = env.instance_causes.get(instance_id, "")
    launch = env.launches.get(instance_id)
    if not _vocabulary() or launch is None:
        status = settled or "NoData"
        return Reported(status, COLOURS[status], (cause,) if cause and status == "Severe" else ())
    running = now - launch.at
    if running < PENDING_SECONDS or settled is None:
        status = "Pending" if running < PENDING_SECONDS else "Info"
        return Reported(
            status, COLOURS[status], (f"Performing initialization (running for {_s(running)}).",)
        )
    if settled == "Severe":
        return Reported("Severe", "Red", (cause,) if cause else ())
    since = running - PENDING_SECONDS
    if since < INFO_SECONDS:
        took = _s(PENDING_SECONDS)
        return Reported(
            "Ok", "Green", (f"Initialization completed {_s(since)} ago and took {took}.",)
        )
    return Reported("Ok", "Green")


def environment_health(env: SandboxEnvironment, now: float) -> Reported:
    """What enhanced health reports for the environment at `now`."""
    status, causes = env.health_status, list(env.causes)
    update = env.update
    if _vocabulary():
        reports = [instance_health(env, iid, now) for iid in env.serving_instances]
        if update is not None:
            if not any(report.status == "Severe" for report in reports):
                status = "Pending" if update.step == 0 else "Info"
                causes = [_in_progress(env, update, now)]
        elif status == "Ok" and env.last_update is not None:
            began, ended = env.last_update
            if now - ended < INFO_SECONDS:
                status = "Info"
                causes = [
                    f"Configuration update completed {_s(now - ended)} ago and took "
                    f"{_s(ended - began)}."
                ]
    level = runtime.current().faults.unrelated_level(env.name)
    if level and _RANK[level] > _RANK[status]:
        status = level
    if level:
        causes.insert(
            0, f"{UNRELATED_5XX[level]}% of the requests to the ELB are failing with HTTP 5xx."
        )
    colour = COLOURS[status] if _vocabulary() or status != env.health_status else env.health
    if _vocabulary() and update is not None and colour == "Green":
        colour = "Grey"  # health checks are suspended during an UpdateEnvironment
    return Reported(status, colour, tuple(causes))


def announce(state: EbState, env: SandboxEnvironment, now: float) -> None:
    """Emit "Environment health has transitioned ..." when the reported status changed since
    the last announcement (such events belong to no request)."""
    reported = environment_health(env, now)
    if reported.status == env.announced:
        return
    message = f"Environment health has transitioned from {env.announced} to {reported.status}."
    if reported.causes:
        message += " " + reported.causes[0]
    env.announced = reported.status
    state.emit(env, message, "WARN" if _RANK[reported.status] >= _RANK["Warning"] else "INFO")


def _in_progress(env: SandboxEnvironment, update: Update, now: float) -> str:
    if update.image_id == update.previous_image and not update.reverting:
        return "Command is executing on all instances."
    total = env.instance_count
    done = min(total, len([iid for iid in update.new_instances if iid in env.instance_ids]))
    return (
        f"Configuration update in progress on {_count(total - done, 'instance')}. {done} out of "
        f"{_count(total, 'instance')} completed (running for {_s(now - update.began)})."
    )


def _vocabulary() -> bool:
    return runtime.current().faults.realism.health_vocabulary


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _s(seconds: float) -> str:
    return _count(max(0, int(seconds)), "second")
