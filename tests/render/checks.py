"""Checks every rendered document must pass, shared by the tests."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
from lxml import etree, html

from .atom_validator import validate_atom

SCHEMA_PATH = Path(__file__).with_name("jsonfeed_schema.json")


@cache
def json_feed_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def json_feed_errors(document: bytes) -> list[str]:
    """Schema violations of a JSON Feed document, as readable lines."""
    parsed = orjson.loads(document)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in json_feed_validator().iter_errors(parsed)
    ]


def strict_xml(document: bytes) -> Any:
    """Parse as XML with no recovery; raises on anything ill-formed."""
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    return etree.fromstring(document, parser)


def assert_clean_atom(document: bytes) -> None:
    strict_xml(document)
    report = validate_atom(document)
    assert report.errors == []
    assert report.warnings == []


def assert_clean_json_feed(document: bytes) -> None:
    assert json_feed_errors(document) == []


def parse_html(document: bytes) -> Any:
    return html.document_fromstring(document)
