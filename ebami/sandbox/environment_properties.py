"""Environment properties (`aws:elasticbeanstalk:application:environment`) as Elastic Beanstalk
takes them: any option name in that namespace is a property, within EB's limits.

Limits from the Elastic Beanstalk developer guide ("Environment properties and other software
settings", and `eb setenv`): a key holds letters, digits and `_ . : / + \\ - @`, at most 128
characters; a value letters, digits, white space and `_ . : / = + \\ - @ ' "`, at most 256
characters. (The guide's limit of 4,096 bytes for all properties together is not enforced by
the sandbox.) The refusal wording is the sandbox's own.
"""

from __future__ import annotations

import re

NAMESPACE = "aws:elasticbeanstalk:application:environment"
MAX_KEY = 128
MAX_VALUE = 256
_KEY = re.compile(r"[A-Za-z0-9_.:/+\\\-@]+")
_VALUE = re.compile(r"[A-Za-z0-9\s_.:/=+\\\-@'\"]*")


def property_refusal(key: str, value: str | None) -> str | None:
    """Why Elastic Beanstalk refuses an environment property (`value` None: only the key, as in
    OptionsToRemove), or None when it takes it."""
    if not key or len(key) > MAX_KEY or not _KEY.fullmatch(key):
        return (
            f"Environment property name '{key}' is not valid: give 1 to {MAX_KEY} letters, "
            "digits or _ . : / + \\ - @"
        )
    if value is not None and (len(value) > MAX_VALUE or not _VALUE.fullmatch(value)):
        return (
            f"Environment property '{key}' has a value Elastic Beanstalk does not accept: give "
            f"at most {MAX_VALUE} letters, digits, spaces or _ . : / = + \\ - @ ' \""
        )
    return None
