"""Every interface string is translated into Arabic, and the catalogue is up to date with the code."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ARABIC_PO = ROOT / "locale" / "ar" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
SOURCES = ("config", "shafaf", "templates")


def test_every_arabic_entry_is_translated_and_not_fuzzy():
    catalogue = polib.pofile(str(ARABIC_PO))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == [], f"untranslated Arabic msgids: {untranslated}"
    assert fuzzy == [], f"fuzzy Arabic msgids: {fuzzy}"
    for entry in catalogue:
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == 6, f"Arabic has six plural forms: {entry.msgid!r}"
            assert all(entry.msgstr_plural.values()), f"a plural form is empty: {entry.msgid!r}"


def test_translations_keep_the_placeholders_they_use():
    for entry in polib.pofile(str(ARABIC_PO)):
        allowed = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.msgid_plural or ""))
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in forms:
            assert set(PLACEHOLDER.findall(text)) <= allowed, f"unknown placeholder in {entry.msgid!r}"
        if not entry.msgid_plural:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == allowed, f"placeholder dropped in {entry.msgid!r}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is installed by make setup")
def test_the_catalogue_holds_every_msgid_in_the_code(tmp_path):
    """Extracts the msgids afresh from a copy of the sources: a new string without a translation fails."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    (tmp_path / "locale" / "ar" / "LC_MESSAGES").mkdir(parents=True)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ar", "--no-location", "-v0"],
        cwd=tmp_path,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SHAFAF_SHARED_DATA": "/nonexistent",
        },
    )
    fresh = {entry.msgid for entry in polib.pofile(str(tmp_path / "locale" / "ar" / "LC_MESSAGES" / "django.po"))}
    translated = {entry.msgid for entry in polib.pofile(str(ARABIC_PO)) if entry.translated()}
    missing = sorted(fresh - translated)
    assert missing == [], f"msgids without an Arabic translation (run `make messages` and translate): {missing}"
