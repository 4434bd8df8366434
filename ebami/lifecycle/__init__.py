"""The AMI lifecycle across the fleet: inventory, protections, prune, channels, revoke."""
