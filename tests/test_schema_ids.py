"""The JSON Schemas name themselves with the project's own identifier (not a placeholder host)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import jsonschema_rs
import pytest


@pytest.mark.parametrize("name", ["manifest", "inspect"])
def test_schema_id(name: str) -> None:
    schema = json.loads(resources.files("bundler").joinpath(f"schemas/{name}.schema.json").read_text())
    assert schema["$id"] == f"urn:wiced-bundle:schema:{name}:1"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema_rs.Draft202012Validator(schema)  # its "$ref"s resolve against that base
