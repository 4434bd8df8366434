"""The trust policy of the workflows' roles: GitHub's OIDC provider may assume the role for this
repository's default branch (the nightly bake) or its GitHub environments (the apply jobs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ebami.core.errors import InputError

GITHUB_OIDC = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# GitHub's rules: an owner of letters, digits and single hyphens; a repository name of letters,
# digits, `.`, `-` and `_`.
_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}")
# A GitHub environment's or a branch's name as the token's sub claim holds it: no wildcard, no
# quote, no colon (the claim's separator).
_NAME = re.compile(r"[^\s*?:\"'\\]{1,255}")


def check_repo(repo: str) -> str:
    if not _REPO.fullmatch(repo) or repo.endswith((".git", "/.", "/..")):
        raise InputError(f"--repo {repo!r} is not a GitHub repository: give OWNER/NAME")
    return repo


def _check_name(option: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{option} {name!r}: give a name without white space, `*`, `?`, `:` or quotes"
        )
    return name


def subjects(repo: str, *, branches: Sequence[str], environments: Sequence[str]) -> list[str]:
    """The token `sub` claims the role accepts: each branch's ref, each environment."""
    check_repo(repo)
    found = [f"repo:{repo}:ref:refs/heads/{_check_name('--branch', b)}" for b in branches]
    found += [f"repo:{repo}:environment:{_check_name('--environment', e)}" for e in environments]
    if not found:
        raise InputError("name at least one --branch or --environment the role is for")
    return list(dict.fromkeys(found))


def trust_policy(
    account: str, repo: str, *, branches: Sequence[str], environments: Sequence[str]
) -> dict[str, Any]:
    """The role's trust policy: `sts:AssumeRoleWithWebIdentity` by GitHub's OIDC provider in
    `account`, for tokens whose audience is STS and whose subject is one of `subjects`."""
    claims = subjects(repo, branches=branches, environments=environments)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC}:aud": AUDIENCE,
                        f"{GITHUB_OIDC}:sub": claims if len(claims) > 1 else claims[0],
                    }
                },
            }
        ],
    }
