"""The lifecycle half of the CLI's factory (`ebami.cli.factory`): the estate and its regions,
channels, promote, revoke, prune's deletions and drift, each wired from the AWS half."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

    from ebami.image.bake import BuildVerdict
    from ebami.image.stock import Need
    from ebami.lifecycle.channel_actions import ChannelActions
    from ebami.lifecycle.deletion import RegionTarget
    from ebami.lifecycle.drift import DriftChecker
    from ebami.lifecycle.estate import Estate, EstateScope
    from ebami.lifecycle.inventory import RegionSources
    from ebami.lifecycle.promote import PromotePlanner
    from ebami.lifecycle.revoke import RevokePlanner
    from ebami.lifecycle.revoke_actions import RevokeActions

from ebami.cli.factory_aws import FactoryBase


class LifecycleWiring(FactoryBase):
    # --- the estate (status, prune) ------------------------------------------------------------

    def estate(self) -> Estate:
        """The regions a lifecycle command reads, each through its own factory."""
        from ebami.lifecycle.estate import Estate

        return Estate(
            self,
            self.in_region,
            enabled_regions=lambda: self.ec2.enabled_regions(),
            served_regions=lambda: self.session.service_regions("elasticbeanstalk"),
            reporter=self.app.terminal,
        )

    def estate_scope(self, regions: list[str], *, all_regions: bool) -> EstateScope:
        """The regions beyond the home one: the settings' copy and environment regions, and
        `regions` (`--regions`), or every enabled one."""
        from ebami.lifecycle.estate import EstateScope

        settings = self.settings
        configured = [item.region for item in settings.environments.values() if item.region]
        return EstateScope(
            tuple(settings.copy_to), tuple(configured), tuple(regions), all_regions=all_regions
        )

    def estate_sources(self) -> RegionSources:
        """This region's readers of the estate."""
        from ebami.aws.autoscaling import AutoScaling
        from ebami.lifecycle.inventory import RegionSources

        return RegionSources(
            region=self.region,
            ec2=self.ec2,
            eb=self.eb,
            ssm=self.ssm,
            autoscaling=AutoScaling(self._client("autoscaling")),
            bounded=self.bounded,
            channel_prefix=self.channels().prefix,
        )

    def deletion_target(self, region: str) -> RegionTarget:
        """Where `ebami prune` deletes in `region`, how its calls fit a deadline, the CLI's
        commands there."""
        from ebami.lifecycle.deletion import RegionTarget

        factory = self.in_region(region)
        return RegionTarget(factory.ec2, factory.bounded, factory.session.cli)

    # --- promote and revoke -----------------------------------------------------------------------

    def promote_planner(self) -> PromotePlanner:
        from ebami.lifecycle.promote import PromotePlanner

        return PromotePlanner(ec2=self.ec2, channels=self.channels(), region=self.region)

    def channel_actions(self) -> ChannelActions:
        from ebami.lifecycle.channel_actions import ChannelActions

        # Each write is retried through throttling to a deadline of its own, then waits for
        # SSM to show the new version.
        return ChannelActions(
            self.ec2,
            self.ssm,
            bounds=self.session.bounded,
            report=self.app.terminal.progress,
            guard=self.image_guard,
            warn=self.app.terminal.warn,
        )

    def _copy_regions(self) -> dict[str, Self]:
        """This region's factory and those of the regions `ebami build` copies to."""
        return {region: self.in_region(region) for region in [self.region, *self.settings.copy_to]}

    def revoke_planner(self) -> RevokePlanner:
        """Revoke reads the AMI here, and its copies where `ebami build` copies to."""
        from ebami.lifecycle.revoke import RevokePlanner, RevokeRegion

        return RevokePlanner(
            ec2=self.ec2,
            channels=self.channels(),
            region=self.region,
            now=lambda: datetime.now(timezone.utc),
            copies=[
                RevokeRegion(region, copy.ec2, copy.channels())
                for region, copy in self._copy_regions().items()
                if region != self.region
            ],
        )

    def revoke_actions(self) -> RevokeActions:
        from ebami.lifecycle.revoke_actions import RevokeActions

        return RevokeActions(
            {region: each.channel_actions() for region, each in self._copy_regions().items()},
            warn=self.app.terminal.warn,
        )

    def base_need(self, verdict: BuildVerdict) -> Need:
        """Whether the settings' platform needs a custom AMI at all: the verdict on the base
        AMI a build would bake from (its platform version's own), for the settings' drivers."""
        from ebami.core.errors import AwsError
        from ebami.image.stock import Need, need

        alias = self.settings.resolved_platform().alias
        version, image_id = verdict.platform_version, verdict.base_ami
        try:
            found = self.stock_verdicts.of_version(alias, version, image_id)
        except AwsError as exc:
            return Need.unread(exc)
        drivers = self.settings.resolved_drivers()
        return need(found, drivers, stock=image_id, alias=alias, version=version)

    def drift_checker(self, max_age_days: int) -> DriftChecker:
        from ebami.image.version_drivers import VersionDrivers
        from ebami.lifecycle.drift import DriftChecker

        return DriftChecker(
            eb=self.eb,
            ec2=self.ec2,
            max_age_days=max_age_days,
            stock=self.stock_verdicts,
            drivers=self.settings.resolved_drivers(),
            versions=VersionDrivers(eb=self.eb, s3=lambda: self.s3),
        )
