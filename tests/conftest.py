"""Keeps every test away from the user's AWS configuration and ebami settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from ebami.core import errors

# Property tests never fail CI by chance: CI (`CI` set, as .ci/run runs) replays a fixed,
# derandomized search; developers' runs search at random (and keep what they find in
# .hypothesis/). Every counterexample ever found stays in its test as an @example.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(
    os.environ.get("EBAMI_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

_CLEARED_PREFIXES = ("AWS_", "EBAMI_")


@pytest.fixture(autouse=True)
def isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in ("CI", "NO_COLOR"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    workdir = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(workdir)
    # The policy command refusals name is set per process by the CLI: each test starts unset.
    monkeypatch.setattr(errors, "_policy_command", "ebami iam policy")
    return workdir
