"""Profiles (``--profile publish|training|internal|FILE.toml``): the purpose of a run sets its
detector thresholds and schedule, mode and strength, metadata policy, output size, whether a
mapping file may be written and how long the originals may be kept. See
``docs/profiles.md`` for each built-in profile and the measurements that chose it."""

from fastredact.profiles._profile import (
    BUILTIN_FOLDER,
    Profile,
    builtin_profiles,
    load_profile,
    retention_until,
)

__all__ = ["BUILTIN_FOLDER", "Profile", "builtin_profiles", "load_profile", "retention_until"]
