"""Settings: `ebami.toml`, `EBAMI_*` and flags in one typed object, the forms values must have
(regions, ids, SSM parameter names...), and msgspec's errors as one line naming the key."""
