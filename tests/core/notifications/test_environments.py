"""Environment resolution from account, region and tags; region names and ARNs."""

from __future__ import annotations

import pytest

from opsgate.core.notifications import EnvironmentIndex
from opsgate.core.notifications.regions import (
    account_from_arn,
    region_code,
    region_from_arn,
)
from opsgate.domain.catalog import Environment

INDEX = EnvironmentIndex([
    Environment("dev", "111111111111", "eu-west-1"),
    Environment("staging", "111111111111", "eu-west-1"),
    Environment("prod", "222222222222", "eu-west-1"),
    Environment("prod-us", "222222222222", "us-east-1"),
    Environment("sandbox", "333333333333", "eu-central-1"),
])


@pytest.mark.parametrize("account, region, tags, expected", [
    ("222222222222", "eu-west-1", None, "prod"),
    ("222222222222", "us-east-1", None, "prod-us"),
    ("222222222222", "ap-south-1", None, None),  # two environments in the account, neither there
    ("222222222222", None, None, None),  # a global service in an account with two environments
    ("333333333333", None, None, "sandbox"),  # a global service in an account with one
    ("333333333333", "us-west-2", None, "sandbox"),  # the account's only environment
    ("111111111111", "eu-west-1", None, None),  # dev and staging share it: ambiguous
    ("111111111111", "eu-west-1", {"environment": "staging"}, "staging"),
    ("111111111111", "eu-west-1", {"Env": "DEV"}, "dev"),
    ("111111111111", "eu-west-1", {"opsgate:environment": "dev", "environment": "staging"}, "dev"),
    ("111111111111", "eu-west-1", {"environment": "prod"}, None),  # a tag cannot move an event to another account
    ("999999999999", "eu-west-1", {"environment": "prod"}, None),  # unknown account
    (None, None, {"environment": "prod"}, "prod"),  # no account at all: the tag is all there is
    (None, None, None, None),
])
def test_resolve(account, region, tags, expected):
    assert INDEX.resolve(account, region, tags) == expected


@pytest.mark.parametrize("name, code", [
    ("EU (Ireland)", "eu-west-1"), ("Europe (Ireland)", "eu-west-1"), ("US East (N. Virginia)", "us-east-1"),
    ("Asia Pacific (Tokyo)", "ap-northeast-1"), ("AWS GovCloud (US-West)", "us-gov-west-1"), ("eu-west-1", "eu-west-1"),
    ("Atlantis (Central)", None), ("", None),
])
def test_region_display_names(name, code):
    assert region_code(name) == code


def test_arn_parts():
    arn = "arn:aws:cloudwatch:eu-west-1:222222222222:alarm:web-5xx-high"
    assert (region_from_arn(arn), account_from_arn(arn)) == ("eu-west-1", "222222222222")
    assert region_from_arn("arn:aws:s3:::bucket") is None and account_from_arn("not an arn") is None
