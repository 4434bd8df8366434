"""The estate a lifecycle command reads (`ebami prune`, `ebami status`): which regions, a factory
for each (its own session, used by one thread), and the inventory of them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ebami.core.errors import InputError

if TYPE_CHECKING:
    from ebami.cli.context import AppContext
    from ebami.cli.factory import Factory
    from ebami.config.settings import Settings
    from ebami.lifecycle.inventory import Inventory, RegionSources


class Estate:
    """The regions of one run, each read through its own factory, all sharing one API call
    counter."""

    def __init__(self, app: AppContext, settings: Settings) -> None:
        from ebami.cli.factory import Factory

        self.app = app
        self.settings = settings
        self.home = Factory(app, settings)

    def factory(self, region: str) -> Factory:
        return self.home.in_region(region)

    def regions(self, extra: list[str], *, all_regions: bool) -> list[str]:
        """The home region first, then its copy regions, those of [environments.*] and
        `extra` (or every enabled region), each once."""
        home = self.home.session.region
        if all_regions:
            from ebami.lifecycle.inventory import READ_SECONDS

            with self.home.bounded(READ_SECONDS):
                enabled = self.home.ec2.enabled_regions()
            # A region without Elastic Beanstalk (botocore's endpoint data) has no environment
            # to read, and its endpoint would answer nothing readable.
            served = self.home.session.service_regions("elasticbeanstalk")
            skipped = [region for region in enabled if region not in served and region != home]
            if skipped:
                self.app.terminal.detail(
                    f"not read: {', '.join(skipped)} (no Elastic Beanstalk endpoint there)"
                )
            return list(dict.fromkeys([home, *(r for r in enabled if r not in skipped)]))
        configured = [item.region for item in self.settings.environments.values() if item.region]
        return list(dict.fromkeys([home, *self.settings.copy_to, *configured, *extra]))

    def sources(self, regions: list[str]) -> list[RegionSources]:
        """Each region's readers, made here (clients are made on this thread, used on others)."""
        from ebami.aws.autoscaling import AutoScaling
        from ebami.lifecycle.inventory import RegionSources

        found = []
        for region in regions:
            factory = self.factory(region)
            found.append(
                RegionSources(
                    region=region,
                    ec2=factory.ec2,
                    eb=factory.eb,
                    ssm=factory.ssm,
                    autoscaling=AutoScaling(factory.session.client("autoscaling")),
                    bounded=factory.bounded,
                )
            )
        return found

    def read(self, regions: list[str], *, incomplete: str = "", sharing: bool = False) -> Inventory:
        """The inventory of `regions`; `incomplete` is appended to the error when a read
        fails (what that means for the command); `sharing`: who else may launch each AMI."""
        from datetime import datetime, timezone

        from ebami.lifecycle.inventory import IncompleteInventory, read_inventory

        sources = self.sources(regions)
        self.app.terminal.progress(f"reading the estate in {', '.join(regions)}")
        try:
            return read_inventory(
                sources,
                now=datetime.now(timezone.utc),
                report=self.app.terminal.detail,
                sharing=sharing,
            )
        except IncompleteInventory as exc:
            if not incomplete:
                raise
            raise IncompleteInventory(f"{exc.message}; {incomplete}") from exc


def region_list(value: str | None, option: str = "--regions") -> list[str]:
    """The regions of a comma-separated option, each checked."""
    from ebami.config.formats import check_region

    if value is None:
        return []
    found: list[str] = []
    for item in value.split(","):
        try:
            found.append(check_region(item.strip()))
        except ValueError as exc:
            raise InputError(f"{option}: {exc}") from None
    return found
