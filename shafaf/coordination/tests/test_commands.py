"""`manage.py coordination_scan` (the JSON lines, progress, new pairs, flags), the nightly task and the ministry's
scan, `manage.py coordination_train` (a new active model from the decisions), and the IATI import → scan path on
the real activities split across two charities."""

from __future__ import annotations

import collections
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from shafaf.audit.models import AuditEvent
from shafaf.coordination import online, services
from shafaf.coordination.choices import Decision, FlagStatus
from shafaf.coordination.models import Flag, ModelVersion, ProjectSignature, ScanPair, ScanRun
from shafaf.projects.models import Project
from tests.factories import make_project

from .app_helpers import WELL_B, WELL_SITE_NEARBY, new_project, submit, well_pair

KEYS = {"a", "b", "a_ref", "b_ref", "charity_a", "charity_b", "score", "level", "reasons"}
DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "iati_activities"
LINKED = DATA / "dportal_covid_linked_activities.xml"
TRUTH = DATA / "pairs_ground_truth.jsonl"


@pytest.fixture(autouse=True)
def fresh_index():
    online.reset_index()
    yield
    online.reset_index()


def scan(path) -> tuple[list[dict], str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("coordination_scan", "--jsonl", str(path), stdout=out, stderr=err)
    lines = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    return lines, out.getvalue(), err.getvalue()


def test_the_scan_writes_each_cross_charity_pair_as_a_json_line(world, tmp_path):
    a, b = well_pair(world)
    Project.objects.filter(pk=a.pk).update(iati_identifier="XM-DAC-41114-WELLS-1", updated_at=timezone.now())
    # An internal twin of A: never in the file.
    twin = make_project(
        world.najat, world.charity_a, locations=WELL_SITE_NEARBY, implementing_partner=world.partner, **WELL_B
    )
    submit(world.najat, twin)
    Flag.objects.all().delete()  # the scan finds them again on its own

    lines, out, err = scan(tmp_path / "pairs.jsonl")
    assert len(lines) == 2  # A ~ B, and B ~ twin (charity B ~ charity A); A ~ twin is internal
    for line in lines:
        assert set(line) == KEYS
        assert line["a"] < line["b"] and line["level"] in ("likely", "possible")
        assert {line["charity_a"], line["charity_b"]} == {"charity-a", "charity-b"}
        assert (
            isinstance(line["score"], float)
            and line["reasons"]
            and set(line["reasons"][0])
            >= {
                "signal",
                "weight",
                "text_en",
                "text_ar",
            }
        )
    [ab] = [line for line in lines if {line["a"], line["b"]} == {a.pk, b.pk}]
    assert (ab["a_ref"], ab["b_ref"]) == ("XM-DAC-41114-WELLS-1", b.reference)  # the IATI identifier when imported
    assert (ab["charity_a"], ab["charity_b"]) == ("charity-a", "charity-b")

    run = ScanRun.objects.get()
    assert run.status == ScanRun.Status.DONE and run.progress == 100 and run.finished_at
    assert (run.records, run.pairs, run.new_pairs) == (3, 2, 2) and run.likely == sum(
        line["level"] == "likely" for line in lines
    )
    assert ScanPair.objects.filter(run=run, is_new=True).count() == 2
    assert "cross-charity pairs: 2" in out and "new since the previous scan: 2" in out
    assert re.search(r"\d+%", err)  # progress on stderr
    flags = Flag.objects.filter(status=FlagStatus.OPEN)
    assert flags.count() == 2 and {flag.found_by for flag in flags} == {"scan"}
    assert not flags.filter(internal=True).exists()
    assert AuditEvent.objects.filter(action="coordination.scan_finish", subject_id=str(run.pk)).exists()

    # Again: nothing new, and a decided flag stays decided.
    flag = flags.get(project_a=a, project_b=b)
    services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Two villages.")
    lines_again, out, _err = scan(tmp_path / "again.jsonl")
    assert len(lines_again) == 2 and "new since the previous scan: 0" in out
    assert ScanRun.objects.first().new_pairs == 0
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DECIDED


def test_the_scan_refreshes_stale_signatures_and_skips_what_is_not_compared(world, tmp_path):
    a, b = well_pair(world)
    ProjectSignature.objects.all().delete()
    draft = new_project(world.rahma, world.charity_b)  # a draft is never compared
    lines, _out, _err = scan(tmp_path / "pairs.jsonl")
    assert [(line["a"], line["b"]) for line in lines] == [(a.pk, b.pk)]
    assert set(ProjectSignature.objects.values_list("project_id", flat=True)) == {a.pk, b.pk}
    assert draft.pk not in {line["b"] for line in lines}


def test_the_nightly_task_and_the_ministrys_scan(world, django_capture_on_commit_callbacks):
    from shafaf.coordination.tasks import coordination_scan_nightly

    well_pair(world)
    summary = coordination_scan_nightly.call()
    assert summary["status"] == "done" and summary["pairs"] == 1 and summary["new_pairs"] == 1
    with pytest.raises(services.NotAllowed):
        services.scan_start(actor=world.najat)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.scan_start(actor=world.reviewer)
    run.refresh_from_db()
    assert run.status == ScanRun.Status.DONE and run.started_by == world.reviewer
    assert run.pairs == 1 and run.new_pairs == 0


def test_a_running_scan_is_not_started_twice(world):
    ScanRun.objects.create(model_version=services.selectors.active_model())
    with pytest.raises(services.Conflict):
        services.scan_start(actor=world.reviewer)


def test_run_nightly_includes_the_coordination_scan(world):
    well_pair(world)
    out = io.StringIO()
    call_command("run_nightly", stdout=out)
    text = out.getvalue()
    assert text.index("coordination:") < text.index("rulebook:")
    assert ScanRun.objects.filter(status=ScanRun.Status.DONE).exists()


def test_train_makes_a_new_active_version_from_the_decisions(world):
    a, b = well_pair(world)
    services.flag_decide(
        actor=world.reviewer, flag=Flag.objects.get(), decision=Decision.DISTINCT, reason="Neighbouring villages."
    )
    first = services.selectors.active_model()
    out = io.StringIO()
    call_command("coordination_train", "--actor", "mosa_admin", stdout=out)
    new = ModelVersion.objects.get(is_active=True)
    assert new.number == first.number + 1 and new.labels_used == 1 and new.records_used == 2
    assert not ModelVersion.objects.get(pk=first.pk).is_active
    assert new.created_by == world.ministry_admin
    assert f"model v{new.number} is active (was v{first.number})" in out.getvalue()
    assert AuditEvent.objects.filter(action="coordination.model_train", subject_id=str(new.pk)).exists()
    # The new version is the one checks now use.
    check = services.coordination_check(actor=world.reviewer, project=b, trigger="manual")
    assert check.model_version_id == new.pk
    assert services.decision_labels() == [(a.pk, b.pk, False)]


# --- the real activities ----------------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z0-9]+", (text or "").lower()) if len(word) > 2}


def _jaccard(x: str, y: str) -> float:
    a, b = _words(x), _words(y)
    return len(a & b) / len(a | b) if a | b else 0.0


def _two_sides(pairs: list[dict]) -> dict[str, int]:
    """Each publisher of a near-identical pair on one of two sides, so that each pair's ends fall apart
    (a two-colouring of the publishers' graph; the others go to side 0)."""
    graph = collections.defaultdict(set)
    for pair in pairs:
        x, y = pair["a"]["reporting_org"], pair["b"]["reporting_org"]
        graph[x].add(y)
        graph[y].add(x)
    side: dict[str, int] = {}
    for start in sorted(graph):
        if start in side:
            continue
        side[start], queue = 0, [start]
        while queue:
            node = queue.pop()
            for other in sorted(graph[node]):
                if other not in side:
                    side[other] = 1 - side[node]
                    queue.append(other)
    return side


@pytest.mark.skipif(not LINKED.is_file(), reason="the shared IATI data is not beside the project")
def test_imported_activities_of_two_charities_are_scanned_and_the_near_identical_pairs_found(world, tmp_path):
    from shafaf.finance.tests.helpers_iati import load_rates_quickly

    load_rates_quickly()
    truth = [json.loads(line) for line in TRUTH.read_text(encoding="utf-8").splitlines()]
    cross = [pair for pair in truth if pair["a"]["reporting_org"] != pair["b"]["reporting_org"]]
    near = [pair for pair in cross if pair["title_similarity"] >= 0.9]
    side = _two_sides(near)
    root = ET.parse(LINKED).getroot()  # noqa: S314 - the shared data set
    for number in (0, 1):
        half = ET.Element(root.tag, root.attrib)
        for activity in root.findall("iati-activity"):
            if side.get(activity.find("reporting-org").get("ref"), 0) == number:
                half.append(activity)
        ET.ElementTree(half).write(tmp_path / f"half{number}.xml", encoding="utf-8", xml_declaration=True)
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(
                "import_iati", str(tmp_path / f"half{number}.xml"), "--charity", f"iati-{number}", "--create-charity",
                stdout=out, stderr=err,
            )  # fmt: skip
        except Exception as error:  # an activity the importer refuses (a negative budget) is listed, the rest kept
            assert "could not be imported" in str(error)
        assert "coordination signatures:" in err.getvalue()

    imported = dict(Project.objects.exclude(iati_identifier="").values_list("iati_identifier", "status"))
    assert set(imported.values()) <= {"submitted", "approved", "in_execution"}  # all compared
    assert ProjectSignature.objects.count() == len(imported)  # signed by the import

    lines, out, _err = scan(tmp_path / "pairs.jsonl")
    assert all(set(line) == KEYS and line["charity_a"] != line["charity_b"] for line in lines)
    found = {frozenset((line["a_ref"], line["b_ref"])) for line in lines}
    eligible = [p for p in near if p["a"]["id"] in imported and p["b"]["id"] in imported]
    assert len(eligible) >= 25
    # Identical titles and descriptions (the same activity published by two organisations): every one found.
    identical = [p for p in eligible if _jaccard(p["a"]["description"], p["b"]["description"]) >= 0.5]
    assert len(identical) >= 15
    missed = [(p["a"]["id"], p["b"]["id"]) for p in identical if frozenset((p["a"]["id"], p["b"]["id"])) not in found]
    assert missed == []
    # Near-identical titles with different descriptions (a donor's and its implementer's): most found.
    recall = sum(frozenset((p["a"]["id"], p["b"]["id"])) in found for p in eligible) / len(eligible)
    assert recall >= 0.6
    assert Flag.objects.filter(found_by="scan", internal=False).count() == len(lines)
