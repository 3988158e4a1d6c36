"""A variable declared again in an override file (``override.tf``, ``*_override.tf``) is merged
into its first declaration attribute by attribute, as Terraform merges it: an override that
only describes the variable keeps its default, one that sets a default replaces it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cftokens.model.terraform import read_configuration

NOW = datetime(2026, 11, 2, tzinfo=UTC)
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
MAIN = f"""
variable "zone" {{
  default = "{ZONE}"
}}
data "cloudflare_api_token_permission_groups" "all" {{}}
resource "cloudflare_api_token" "t" {{
  name = "x"
  policy {{
    permission_groups = [data.cloudflare_api_token_permission_groups.all.zone["DNS Read"]]
    resources = {{ "com.cloudflare.api.account.zone.${{var.zone}}" = "*" }}
  }}
}}
"""


def resources(folder: Path) -> list[Any]:
    [(address, _, values)] = read_configuration(folder, now=NOW)
    assert address == "cloudflare_api_token.t"
    return [list(policy["resources"]) for policy in values["policy"]]


@pytest.mark.parametrize(
    ("override", "key"),
    [
        (None, f"com.cloudflare.api.account.zone.{ZONE}"),
        (
            'variable "zone" {\n  description = "the zone"\n}\n',
            f"com.cloudflare.api.account.zone.{ZONE}",
        ),
        ('variable "zone" {\n  default = "*"\n}\n', "com.cloudflare.api.account.zone.*"),
    ],
)
def test_an_overridden_variable_keeps_what_the_override_leaves(
    tmp_path: Path, override: str | None, key: str
) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    if override is not None:
        (tmp_path / "override.tf").write_text(override)
    assert resources(tmp_path) == [[key]]
