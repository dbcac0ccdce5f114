"""manage.py screen: one name in words, or one JSON line per input line; bad lines answered, never skipped."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .test_screening_helpers import FULANI, HOPE, UN_PATH, load_un, un_xml

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("screen", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_one_name_is_answered_in_words(world):
    load_un()
    out, _err = _run("Khaled Abdallah al-Fulani")
    assert "ALERT" in out and FULANI[0] in out and "Khalid Abdullah Al-Fulani" in out
    assert "UN" in out  # the list
    out, _err = _run("Ahmad Yousef Haddad")
    assert "no alert" in out


def test_a_bad_single_name_is_a_clear_error(world):
    load_un()
    with pytest.raises(CommandError, match="empty or has no letters"):
        _run("\u200f")
    out, _err = _run("\u200f", "--jsonl")
    assert json.loads(out)["error"].startswith("The name is empty")


def test_jsonl_gives_one_line_per_input_line_and_an_error_line_for_each_bad_one(world, tmp_path):
    load_un()
    lines = [
        "Hope Organisation",
        "",
        "منظمة الأمل",
        "   ",
        "12345",
        "x" * 10_000,
        "Hope\u200f Organi\u200bsation",
        "Ahmad Yousef Haddad",
        "منظمة الأمل Hope",
    ]
    source = tmp_path / "names.txt"
    source.write_bytes(("\r\n".join(lines) + "\n").encode() + b"\xff\xfe broken\n" + "خالد الفلاني".encode())
    out, _err = _run("--input", str(source), "--jsonl")
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(lines) + 2
    good = answers[0]
    assert set(good) == {"query", "alert", "matches", "ms"} and good["alert"] and good["query"] == "Hope Organisation"
    assert good["matches"][0] | {"list": "un", "entry_id": HOPE[0]} == good["matches"][0]
    assert {"list", "entry_id", "name", "score", "explanation"} <= set(good["matches"][0])
    assert isinstance(good["matches"][0]["score"], float) and isinstance(good["ms"], float)
    for position in (1, 3, 4, 5):
        assert set(answers[position]) >= {"query", "error"} and answers[position]["error"], answers[position]
    assert answers[5]["error"].startswith("The name is 10000 characters long")
    assert answers[2]["alert"] and answers[6]["alert"] and not answers[7]["alert"]
    assert "matches" in answers[8]
    assert "not UTF-8" in answers[9]["error"]
    assert answers[10]["query"] == "خالد الفلاني" and "matches" in answers[10]


def test_jsonl_against_a_list_file_without_loading_it(world, tmp_path):
    path = tmp_path / "un.xml"
    path.write_bytes(un_xml())
    out, _err = _run("Hope Organisation", "--jsonl", "--un", str(path))
    answer = json.loads(out)
    assert answer["alert"] and answer["matches"][0]["entry_id"] == HOPE[0]
    from shafaf.partners.models import SanctionsListVersion

    assert not SanctionsListVersion.objects.exists()


def test_the_real_un_list_finds_a_listed_name(world):
    out, _err = _run("Osama bin Laden", "--jsonl", "--un", UN_PATH)
    answer = json.loads(out)
    assert answer["alert"] and answer["matches"][0]["entry_id"].startswith("QD")


def test_without_a_list_it_says_so(world):
    out, err = _run("Hope Organisation")
    assert "No sanctions list version is loaded" in err and "no alert" in out


def test_it_needs_a_name_or_an_input_file(world, tmp_path):
    with pytest.raises(CommandError):
        _run()
    with pytest.raises(CommandError, match="cannot be read"):
        _run("--input", str(tmp_path / "missing.txt"), "--jsonl")
    with pytest.raises(CommandError, match="not well-formed"):
        bad = tmp_path / "bad.xml"
        bad.write_bytes(b"<x")
        _run("Hope", "--un", str(bad))
