"""An imported activity's results as the project's strategy indicators (shafaf.strategy).

IATI's `<result>/<indicator>` with a quantitative measure (1, a unit; 2, a percentage) becomes a project indicator
(مؤشر) coded `IATI-<n>` in the order of the file, named from its title (Arabic text goes to the Arabic name), with
its baseline (خط الأساس) and one target (المستهدف) per period. Its actuals are not values of the platform's
progress reports, so they stay, with everything else of the result, in `IatiActivity.results`, which the export
publishes as it was read. Qualitative (5) and other measures are kept there only.

What cannot be an indicator or a target (an unreadable number, a percentage beyond 100, a period that ends before
it starts or overlaps another) is reported as a problem of the activity, never dropped silently. Written in bulk
(one audit event per indicator, with its targets), for the importer's batches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.core.bulk import insert_and_read_ids, insert_values
from shafaf.projects.demo.iati import has_arabic
from shafaf.strategy.choices import Unit
from shafaf.strategy.models import Indicator, IndicatorTarget
from shafaf.strategy.values import parse_value

MEASURES = {"1": Unit.NUMBER, "2": Unit.PERCENT}
NAME_LIMIT = 300


@dataclass
class Planned:
    indicator: Indicator
    targets: list[tuple[dt.date, dt.date, int]] = field(default_factory=list)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def plan_indicators(project, results: list[dict], *, actor, problem) -> list[Planned]:
    """The indicators and targets of one project's results (not saved); `problem(message)` reports what is not
    kept as an indicator or a target."""
    planned: list[Planned] = []
    now = timezone.now()
    number = 0
    for result in results or []:
        for source in result.get("indicators") or []:
            unit = MEASURES.get((source.get("measure") or "1").strip())
            if unit is None:
                continue  # qualitative and other measures: kept in the IATI record only
            number += 1
            title = (source.get("title") or result.get("title") or "").strip()[:NAME_LIMIT]
            if not title:
                title = _("IATI indicator %(number)s") % {"number": number}
            arabic = has_arabic(title)
            indicator = Indicator(
                project=project,
                code=f"IATI-{number}",
                name_ar=title if arabic else "",
                name_en="" if arabic else title,
                unit=unit,
                created_by=actor,
                created_at=now,
            )
            baseline = (source.get("baseline") or "").strip()
            if baseline:
                try:
                    indicator.baseline_milli = parse_value(baseline, unit=unit)
                except ValidationError as error:
                    problem(
                        _("Result indicator %(code)s: the baseline %(value)s is not kept (%(reason)s).")
                        % {"code": indicator.code, "value": baseline, "reason": " ".join(error.messages)}
                    )
            item = Planned(indicator)
            for period in source.get("periods") or []:
                target = (period.get("target") or "").strip()
                if not target:
                    continue
                start, end = _date(period.get("start")), _date(period.get("end"))
                reason = None
                if start is None or end is None or end < start:
                    reason = _("its period is not a pair of dates in order")
                elif any(start <= kept_end and end >= kept_start for kept_start, kept_end, _v in item.targets):
                    reason = _("its period overlaps another target's period")
                else:
                    try:
                        item.targets.append((start, end, parse_value(target, unit=unit)))
                    except ValidationError as error:
                        reason = " ".join(error.messages)
                if reason:
                    problem(
                        _("Result indicator %(code)s: the target %(value)s is not kept (%(reason)s).")
                        % {"code": indicator.code, "value": target, "reason": reason}
                    )
            planned.append(item)
    return planned


def write_indicators(planned: list[Planned], *, events) -> int:
    """Inserts the planned indicators and their targets, with one audit event per indicator. Returns how many."""
    if not planned:
        return 0
    insert_and_read_ids(Indicator, [item.indicator for item in planned], key=("project_id", "code"))
    insert_values(
        IndicatorTarget,
        [
            {"indicator_id": item.indicator.pk, "period_start": start, "period_end": end, "value_milli": value}
            for item in planned
            for start, end, value in item.targets
        ],
    )
    for item in planned:
        indicator = item.indicator
        events.add(
            action="strategy.indicator_create",
            subject=indicator,
            reason=_("IATI import: a result indicator of the activity."),
            changes={
                "project": [None, indicator.project_id],
                "code": [None, indicator.code],
                "name_ar": [None, indicator.name_ar],
                "name_en": [None, indicator.name_en],
                "unit": [None, indicator.unit],
                "baseline": [None, indicator.baseline_milli],
                "targets": [None, [[start, end, value] for start, end, value in item.targets]],
            },
        )
    return len(planned)
