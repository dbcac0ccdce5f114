"""Loading a sanctions list file: the UN Security Council Consolidated List (XML) or the US OFAC SDN set (CSV).

The whole file is parsed first (shafaf.partners.sanctions_parse); a malformed file is refused with a clear
error before anything is written, so the version in use stays in use. Then one transaction stores the new
version and its entries (in batches), makes it the current version of its list, marks the previous version's
open hits superseded (a new version asks again), and records the audit event "sanctions.import". After commit
every partner is re-screened in the background (shafaf.partners.tasks_screening). Every version is kept.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed

from . import permissions
from .choices import HitStatus, SanctionsSource
from .models import SanctionsEntry, SanctionsListVersion, ScreeningHit

BATCH_SIZE = 2000
OFAC_FILES = ("sdn", "alt", "add", "comments")  # the upload's parts: sdn.csv, alt.csv, add.csv, sdn_comments.csv
OFAC_FILE_NAMES = {"sdn": "sdn.csv", "alt": "alt.csv", "add": "add.csv", "comments": "sdn_comments.csv"}
MAX_UPLOAD_BYTES = 200 * 1024 * 1024

# progress(stage, done, total): stage is "parse" or "store".
Progress = Callable[[str, int, int], None] | None


def _malformed(message: str) -> DomainError:
    text = _("The list file cannot be loaded: %(problem)s The list version in use is unchanged.") % {"problem": message}
    return DomainError(text, code="malformed_file", fields={"file": [text]})


def _read(item) -> bytes:
    """The bytes of an uploaded file, an open file or bytes."""
    if isinstance(item, bytes | bytearray | memoryview):
        return bytes(item)
    if hasattr(item, "chunks"):
        return b"".join(item.chunks())
    if hasattr(item, "read"):
        data = item.read()
        return data.encode() if isinstance(data, str) else data
    raise TypeError(f"Cannot read {type(item).__name__}")


def _name_of(item, default: str) -> str:
    if isinstance(item, str | Path):
        return Path(item).name
    return Path(getattr(item, "name", "") or default).name or default


def _parse(source: str, path_or_file, progress: Progress):
    """(ParsedList, file name); raises DomainError("malformed_file") for a file that cannot be read."""
    from . import sanctions_parse as parse

    on_parse = (lambda done, total: progress("parse", done, total)) if progress else None
    try:
        if source == SanctionsSource.UN:
            if isinstance(path_or_file, str | Path):
                return parse.parse_un(str(path_or_file), progress=on_parse), Path(path_or_file).name
            return parse.parse_un(_read(path_or_file), progress=on_parse), _name_of(path_or_file, "un.xml")
        if isinstance(path_or_file, str | Path):
            return parse.parse_ofac(path_or_file, progress=on_parse), Path(path_or_file).name
        if not isinstance(path_or_file, Mapping):
            raise parse.SanctionsFileError(
                "An OFAC upload needs its SDN, alternate names and addresses files (sdn.csv, alt.csv, add.csv)."
            )
        missing = [OFAC_FILE_NAMES[part] for part in ("sdn", "alt", "add") if not path_or_file.get(part)]
        if missing:
            raise parse.SanctionsFileError(f"The OFAC set is incomplete: {', '.join(missing)} missing.")
        with tempfile.TemporaryDirectory(prefix="shafaf-ofac-") as folder:
            for part in OFAC_FILES:
                if path_or_file.get(part):
                    (Path(folder) / OFAC_FILE_NAMES[part]).write_bytes(_read(path_or_file[part]))
            parsed = parse.parse_ofac(Path(folder) / "sdn.csv", progress=on_parse)
        return parsed, _name_of(path_or_file["sdn"], "sdn.csv")
    except parse.SanctionsFileError as error:
        raise _malformed(str(error)) from error
    except (UnicodeDecodeError, ValueError, OSError) as error:
        raise _malformed(str(error)) from error


def _already_loaded(version: SanctionsListVersion) -> Conflict:
    message = _(
        "This file was already loaded: it is version %(version)s of the %(list)s, loaded on %(date)s "
        "(%(entries)s entries). Nothing was changed."
    ) % {
        "version": version.pk,
        "list": version.get_source_display(),
        "date": f"{version.loaded_at:%Y-%m-%d %H:%M}",
        "entries": version.entry_count,
    }
    return Conflict(message, code="already_loaded", fields={"file": [message]})


def _entry_row(version, entry) -> SanctionsEntry:
    return SanctionsEntry(
        version=version,
        entry_id=entry.entry_id[:40],
        entity_type=entry.entity_type,
        primary_name=entry.primary_name[:500],
        names=[{"text": n.text, "kind": n.kind, "quality": n.quality} for n in entry.names],
        dates_of_birth=list(entry.dates_of_birth),
        nationalities=list(entry.nationalities),
        countries=list(entry.countries),
        addresses=list(entry.addresses),
        programs=list(entry.programs),
        listed_on=(entry.listed_on or "")[:10],
        remarks=entry.remarks or "",
    )


def sanctions_import(
    *, actor, source: str, path_or_file, progress: Progress = None, rescreen: bool = True
) -> SanctionsListVersion:
    """Loads one list file as a new version of its list and makes it current (see the module's docstring).

    `path_or_file`: a path (UN XML; OFAC: the sdn.csv or its folder, with alt.csv and add.csv beside it), the
    UN file's bytes or an uploaded file, or for OFAC a mapping {"sdn", "alt", "add", "comments"?} of uploaded
    files. Refuses an actor who is not an accreditation officer or a ministry admin (NotAllowed; `actor=None`
    is the command line), a malformed file (DomainError "malformed_file") and a file already loaded
    (Conflict "already_loaded", naming the version). With `rescreen`, every partner is re-screened after
    commit by the background worker."""
    if actor is not None and not permissions.can_import_sanctions(actor):
        raise NotAllowed(_("Only accreditation officers and ministry administrators load sanctions lists."))
    if source not in SanctionsSource.values:
        message = _("Choose the UN or the OFAC list.")
        raise DomainError(message, code="invalid", fields={"source": [message]})
    parsed, file_name = _parse(source, path_or_file, progress)
    if not parsed.entries:
        raise _malformed("the file holds no entries.")
    known = SanctionsListVersion.objects.filter(source=source, sha256=parsed.sha256).first()
    if known is not None:
        raise _already_loaded(known)
    total = len(parsed.entries)
    try:
        with transaction.atomic():
            previous = SanctionsListVersion.objects.select_for_update().filter(source=source, is_current=True).first()
            version = SanctionsListVersion.objects.create(
                source=source,
                published=(parsed.published or "")[:40],
                file_name=file_name[:300],
                sha256=parsed.sha256,
                entry_count=total,
                name_count=sum(len(entry.names) for entry in parsed.entries),
                is_current=False,
                loaded_by=actor,
            )
            for start in range(0, total, BATCH_SIZE):
                batch = parsed.entries[start : start + BATCH_SIZE]
                SanctionsEntry.objects.bulk_create([_entry_row(version, entry) for entry in batch])
                if progress is not None:
                    progress("store", start + len(batch), total)
            superseded = 0
            if previous is not None:
                SanctionsListVersion.objects.filter(pk=previous.pk).update(is_current=False)
                superseded = ScreeningHit.objects.filter(version=previous, status=HitStatus.OPEN).update(
                    status=HitStatus.SUPERSEDED
                )
            SanctionsListVersion.objects.filter(pk=version.pk).update(is_current=True)
            version.is_current = True
            audit.record(
                actor=actor,
                action="sanctions.import",
                subject=version,
                changes={
                    "source": source,
                    "file_name": version.file_name,
                    "published": version.published,
                    "sha256": version.sha256,
                    "entries": version.entry_count,
                    "names": version.name_count,
                    "previous_version": previous.pk if previous is not None else None,
                    "hits_superseded": superseded,
                },
            )
            if rescreen:
                from .tasks_screening import rescreen_partners

                version_id = version.pk
                transaction.on_commit(lambda: rescreen_partners.enqueue(version_id))
    except IntegrityError:
        known = SanctionsListVersion.objects.filter(source=source, sha256=parsed.sha256).first()
        if known is not None:
            raise _already_loaded(known) from None
        raise Conflict(_("Another list was loaded at the same time; try again.")) from None
    return version
