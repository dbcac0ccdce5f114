"""Validation against the official 360Giving 1.4.3 schemas, offline.

The schemas (vendored in `schema/`) are JSON Schema 2020-12. They are loaded into a local `referencing` registry, so
that a `$ref` never reaches the network, and validated with a `FormatChecker`: without one, `format` is only an
annotation in 2020-12 and dates such as "05/06/2014" would pass (and `oneOf` of a date-time and a date would fail
for every correct date). `date-time` is checked by rfc3339-validator; `uri` by a strict RFC 3986 check below when
no URI checker is installed.

Numbers are validated as `Decimal` (files are parsed with `parse_float=Decimal`), so that no amount ever goes
through a float.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
GRANT_SCHEMA = "360-giving-schema.json"
PACKAGE_SCHEMA = "360-giving-package-schema.json"
VERSION = "1.4"  # the package's "version" is major.minor

# RFC 3986: a scheme, then characters allowed in a URI (unreserved, reserved and percent-escapes).
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI.match(value)) and not _BAD_ESCAPE.search(value)


def format_checker() -> FormatChecker:
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        raise RuntimeError("rfc3339-validator is not installed: date-time formats would not be checked.")
    if "uri" not in checker.checkers:
        checker.checks("uri")(_is_uri)
    return checker


def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def _registry_and_schemas() -> tuple[Registry, dict, dict]:
    grant = _load(GRANT_SCHEMA)
    package = _load(PACKAGE_SCHEMA)
    grant_resource = DRAFT202012.create_resource(grant)
    # The 1.4.3 package refers to the grant schema by its 1.4.2 address: serve the same local copy under both.
    references = {package["properties"]["grants"]["items"]["$ref"], grant["$id"]}
    registry = Registry().with_resources([(uri, grant_resource) for uri in references])
    registry = registry.with_resource(package["$id"], DRAFT202012.create_resource(package))
    return registry, grant, package


@cache
def grant_validator() -> Draft202012Validator:
    registry, grant, _package = _registry_and_schemas()
    return Draft202012Validator(grant, registry=registry, format_checker=format_checker())


@cache
def package_validator() -> Draft202012Validator:
    registry, _grant, package = _registry_and_schemas()
    return Draft202012Validator(package, registry=registry, format_checker=format_checker())


def grant_schema() -> dict:
    return _registry_and_schemas()[1]


@dataclass(frozen=True)
class SchemaProblem:
    path: str  # the JSON path inside the grant, "a/0/b"; "" for the grant itself
    message: str
    value: str
    code: str  # the schema keyword that failed (required, type, format, pattern, enum, oneOf ...)


def _text(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)[:200]
    return "" if value is None else str(value)


def _message(code: str, error, value: str) -> str:
    """A clear, translated reason for the usual problems; the schema's own message for the rest."""
    if code == "format" and error.validator == "oneOf":
        return _(
            "%(value)s is not a date: write it as YYYY-MM-DD or as a full date-time such as 2014-06-05T00:00:00+00:00."
        ) % {"value": value}
    if code == "format" and error.validator_value == "date-time":
        return _("%(value)s is not a full date-time with its time zone, such as 2015-08-17T00:00:00+00:00.") % {
            "value": value
        }
    if code == "format" and error.validator_value == "uri":
        return _("%(value)s is not a web address: it must start with its scheme, such as https://.") % {"value": value}
    if code == "type" and error.validator_value == "number":
        return _("%(value)s is not a number: write digits only, without commas, currency signs or words.") % {
            "value": value
        }
    if code == "enum" and isinstance(error.validator_value, list) and len(error.validator_value) <= 10:
        return _("%(value)s is not one of: %(choices)s.") % {
            "value": value,
            "choices": ", ".join(str(choice) for choice in error.validator_value),
        }
    if code == "enum":
        return _("%(value)s is not a code of the standard's list.") % {"value": value}
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."


def _problem(error) -> SchemaProblem:
    path = "/".join(str(part) for part in error.absolute_path)
    code = str(error.validator)
    if code == "oneOf" and error.context and any(sub.validator == "format" for sub in error.context):
        code = "format"  # a date that is neither a date-time nor YYYY-MM-DD: name the format, not the combinator
    if code == "required":
        missing = re.match(r"'([^']+)'", error.message)
        name = missing.group(1) if missing else ""
        return SchemaProblem(
            path=f"{path}/{name}".strip("/"),
            message=_("The field %(field)s is required.") % {"field": name},
            value="",
            code=code,
        )
    value = _text(error.instance)
    return SchemaProblem(path=path, message=_message(code, error, value), value=value, code=code)


def grant_problems(grant) -> list[SchemaProblem]:
    """Every way `grant` breaks the 360Giving grant schema (empty when valid), in a stable order. A grant missing
    fields required by both alternatives of the schema's top-level `oneOf` (organisation or individual recipient)
    is reported field by field."""
    problems = []
    for error in sorted(
        grant_validator().iter_errors(grant), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    ):
        if error.validator == "oneOf" and not error.absolute_path and error.context:
            # The top-level choice between an organisation and an individual recipient: report the organisation
            # branch's missing fields (the form this platform uses), unless the grant names an individual.
            branch = 1 if isinstance(grant, dict) and "recipientIndividual" in grant else 0
            problems.extend(_problem(sub) for sub in error.context if sub.schema_path[0] == branch)
            continue
        problems.append(_problem(error))
    return problems


def _lines(errors, prefix: tuple = ()) -> list[str]:
    lines = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(part) for part in (*prefix, *error.absolute_path))
        lines.append(f"{path or '(package)'}: {error.message}")
    return lines


@cache
def envelope_validator() -> Draft202012Validator:
    """The official package schema with its two constraints on the grants themselves lifted out (each grant against
    the grant schema; no two grants equal), which `package_problems` checks separately: the schema's own
    `uniqueItems` compares every pair of grants, too slow for a charity with thousands of grants."""
    registry, _grant, package = _registry_and_schemas()
    envelope = copy.deepcopy(package)
    grants = envelope["properties"]["grants"]
    if grants.get("uniqueItems") is not True or not grants.get("items", {}).get("$ref", "").endswith(GRANT_SCHEMA):
        raise RuntimeError("The package schema's grants are not what package_problems expects.")
    del grants["items"], grants["uniqueItems"]
    return Draft202012Validator(envelope, registry=registry, format_checker=format_checker())


def _canonical(value):
    """A hashable form equal for JSON values that JSON Schema calls equal (1 == 1.0 == 1.000; true is not 1)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float | Decimal):
        return ("number", Decimal(value).normalize())
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("other", repr(value))


def package_problems(package) -> list[str]:
    """Every way `package` breaks the 360Giving package schema, as "path: message" lines (empty when valid).

    The same verdict as validating against the official package schema whole (a test compares them), in linear
    time: the envelope, then each grant against the grant schema, then the grants' uniqueness by hashing."""
    grants = package.get("grants") if isinstance(package, dict) else None
    if not isinstance(grants, list):
        return _lines(package_validator().iter_errors(package))
    lines = _lines(envelope_validator().iter_errors(package))
    seen: dict = {}
    for index, grant in enumerate(grants):
        lines.extend(_lines(grant_validator().iter_errors(grant), ("grants", index)))
        key = _canonical(grant)
        if key in seen:
            lines.append(f"grants/{index}: the same grant as grants/{seen[key]} (the grants must be unique)")
        else:
            seen[key] = index
    return lines
