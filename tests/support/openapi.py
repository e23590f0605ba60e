"""Validate JSON bodies against the component schemas of OpenAI's spec (tests/api/reference/*.yaml), and, for
ragstore's own routes, against the OpenAPI document the app itself publishes.

The YAML is OpenAPI 3.1, validated here as JSON Schema draft 2020-12. OpenAPI-only keywords (`x-*`, `discriminator`,
`example`, `format: unixtime`) are annotations there and need nothing. Two leftovers of older drafts do, and are
rewritten once at load time to what the spec means:

- `nullable: true` (OpenAPI 3.0), including its `allOf: [{$ref}, {nullable: true}]` form, becomes `anyOf [..., null]`;
- `$recursiveRef: '#'` (draft 2019-09, in `CompoundFilter.filters`) becomes a `$ref` to the enclosing component;
  left alone it would match anything, and every comparison filter inside a compound filter would fail its `oneOf`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REFERENCE = Path(__file__).parents[1] / "api/reference"
SPECS = {"vector_stores": "openai_vector_stores_openapi.yaml", "responses": "openai_responses_openapi.yaml"}
SPEC_PATH = REFERENCE / SPECS["vector_stores"]
OWN_URI = "urn:ragstore:openapi"


def validate(component: str, body: Any, spec: str = "vector_stores") -> None:
    """Raise AssertionError, readably, if body does not match components/schemas/<component> of the YAML (spec:
    a key of SPECS)."""
    errors = sorted(_validator(component, spec).iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        lines = [f"  at {error.json_path}: {_shorten(error.message)}" for error in errors]
        raise AssertionError(f"body does not match {component}:\n" + "\n".join(lines))


def validate_own(spec: dict[str, Any], ref: str, body: Any) -> None:
    """Raise AssertionError if body does not match the schema at ref of ragstore's own OpenAPI document."""
    registry = Registry().with_resource(OWN_URI, Resource(contents=spec, specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"{OWN_URI}{ref}"}, registry=registry)  # ref: "#/components/..."
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        lines = [f"  at {error.json_path}: {_shorten(error.message)}" for error in errors]
        raise AssertionError(f"body does not match {ref} of ragstore's OpenAPI document:\n" + "\n".join(lines))


def component_names() -> list[str]:
    """The names under components/schemas, sorted."""
    return sorted(_spec()["components"]["schemas"])


@functools.cache
def _validator(component: str, name: str = "vector_stores") -> Draft202012Validator:
    if component not in _spec(name)["components"]["schemas"]:
        raise AssertionError(f"no component named {component!r} in {SPECS[name]}")
    uri = f"urn:openai:{name}-openapi"
    registry = Registry().with_resource(uri, Resource(contents=_spec(name), specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{uri}#/components/schemas/{component}"}, registry=registry)


@functools.cache
def _spec(name: str = "vector_stores") -> dict[str, Any]:
    spec = yaml.safe_load((REFERENCE / SPECS[name]).read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    for component, schema in schemas.items():
        schemas[component] = _rewrite(schema, f"#/components/schemas/{component}")
    if "OpenAIFile" in schemas:
        # The spec contradicts itself: CreateFileRequest accepts purpose `evals`, OpenAIFile cannot report it.
        schemas["OpenAIFile"]["properties"]["purpose"]["enum"].append("evals")
    return spec


def _rewrite(node: Any, component_ref: str) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, component_ref) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: value for key, value in node.items() if key != "$recursiveAnchor"}
    nullable = node.pop("nullable", False)
    if {"nullable": True} in node.get("allOf", []):
        node["allOf"] = [part for part in node["allOf"] if part != {"nullable": True}]
        nullable = True
    if node.get("$recursiveRef") == "#":
        del node["$recursiveRef"]
        node["$ref"] = component_ref
    node = {key: _rewrite(value, component_ref) for key, value in node.items()}
    return {"anyOf": [node, {"type": "null"}]} if nullable else node


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
