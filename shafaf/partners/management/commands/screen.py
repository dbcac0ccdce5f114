"""manage.py screen "NAME" | --input FILE --jsonl: screens names against the current sanctions list versions
(or against list files given with --un / --ofac, without loading them)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from shafaf.partners.screening import (
    ListIndex,
    ScreeningInputError,
    build_index,
    current_index,
    error_as_json,
    result_as_json,
    screen_name,
)


def _rows_from_file(source: str, path: str):
    from shafaf.partners import sanctions_parse as parse

    try:
        parsed = parse.parse_un(path) if source == "un" else parse.parse_ofac(path)
    except parse.SanctionsFileError as error:
        raise CommandError(str(error)) from error
    for entry in parsed.entries:
        yield {
            "source": source,
            "entry_id": entry.entry_id,
            "entity_type": entry.entity_type,
            "primary_name": entry.primary_name,
            "names": entry.names,
            "dates_of_birth": entry.dates_of_birth,
            "nationalities": entry.nationalities,
            "countries": entry.countries,
        }


class Command(BaseCommand):
    help = (
        "Screen a name against the sanctions lists. With --input FILE (or - for standard input) and --jsonl, "
        'screen one name per line and print one JSON object per line: {"query", "alert", "matches": [{"list", '
        '"entry_id", "name", "score", "explanation"}], "ms"}; a line that cannot be screened gives {"query", '
        '"error"}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="The name to screen.")
        parser.add_argument("--input", help="A file with one name per line (- for standard input).")
        parser.add_argument("--jsonl", action="store_true", help="Print one JSON object per name.")
        parser.add_argument("--un", help="Screen against this UN consolidated list XML instead of the database.")
        parser.add_argument("--ofac", help="Screen against this OFAC SDN CSV (with alt.csv, add.csv) instead.")
        parser.add_argument("--entity-type", choices=["individual", "entity"], help="What the name is.")
        parser.add_argument("--country", help="ISO 3166-1 alpha-2 country or nationality, a second attribute.")
        parser.add_argument("--date-of-birth", help="YYYY-MM-DD or YYYY, a second attribute for individuals.")

    def _index(self, un, ofac) -> ListIndex:
        if not un and not ofac:
            index = current_index()
            if not index.entry_count:
                self.stderr.write("No sanctions list version is loaded: nothing to screen against.")
            return index
        rows = []
        if un:
            rows.extend(_rows_from_file("un", un))
        if ofac:
            rows.extend(_rows_from_file("ofac", ofac))
        return build_index(rows)

    def _lines(self, path: str):
        """(name or None, problem) per line of the input, nothing skipped."""
        try:
            raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"The file {path} cannot be read: {error.strerror or error}.") from error
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        lines = raw.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            line = line.removesuffix(b"\r")
            try:
                yield line.decode("utf-8"), None
            except UnicodeDecodeError:
                yield line.decode("utf-8", errors="replace"), f"Line {number} is not UTF-8 text."

    def handle(self, *args, name=None, input=None, jsonl=False, un=None, ofac=None, **options):
        if (name is None) == (input is None):
            raise CommandError("Give one name to screen, or --input FILE (one name per line).")
        attributes = {
            "entity_type": options.get("entity_type"),
            "country": options.get("country"),
            "date_of_birth": options.get("date_of_birth"),
        }
        index = self._index(un, ofac)
        if input is None:
            self._one(index, name, attributes, jsonl)
            return
        for query, problem in self._lines(input):
            if problem:
                error = ScreeningInputError(problem, "السطر ليس نصاً بترميز UTF-8.", code="not_utf8")
                self.stdout.write(json.dumps(error_as_json(query, error), ensure_ascii=False))
                continue
            try:
                result = screen_name(index, query, **attributes)
            except ScreeningInputError as error:
                answer = error_as_json(query, error)
            else:
                answer = result_as_json(result)
            if jsonl:
                self.stdout.write(json.dumps(answer, ensure_ascii=False))
            else:
                self._print(answer)

    def _one(self, index, name, attributes, jsonl):
        try:
            result = screen_name(index, name, **attributes)
        except ScreeningInputError as error:
            if jsonl:
                self.stdout.write(json.dumps(error_as_json(name, error), ensure_ascii=False))
                return
            raise CommandError(error_as_json(name, error)["error"]) from error
        answer = result_as_json(result)
        if jsonl:
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
        else:
            self._print(answer)

    def _print(self, answer: dict) -> None:
        if "error" in answer:
            self.stdout.write(f"“{answer['query']}”: cannot be screened: {answer['error']}")
            return
        verdict = "ALERT" if answer["alert"] else "no alert"
        count = len(answer["matches"])
        self.stdout.write(f"“{answer['query']}”: {verdict}, {count} possible matches ({answer['ms']} ms)")
        for match in answer["matches"]:
            flag = "!" if match.get("alert") else " "
            self.stdout.write(
                f" {flag} {match['list'].upper():4} {match['entry_id']:<12} {match['score']:.2f}  “{match['name']}”"
            )
            if match["explanation"]:
                self.stdout.write(f"      {match['explanation']}")
