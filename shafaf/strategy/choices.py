from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("In force")
    SUPERSEDED = "superseded", _("Superseded")


class ObjectiveKind(models.TextChoices):
    PILLAR = "pillar", _("Pillar")
    GOAL = "goal", _("Goal")
    OBJECTIVE = "objective", _("Objective")


class Unit(models.TextChoices):
    NUMBER = "number", pgettext_lazy("unit", "Number")
    PEOPLE = "people", _("People")
    HOUSEHOLDS = "households", _("Households")
    PERCENT = "percent", _("Percent")
    FACILITIES = "facilities", _("Facilities")
    CUBIC_METRES = "m3", _("Cubic metres")
    KWD = "KWD", _("Kuwaiti dinars")
    DAYS = "days", _("Days")


class Direction(models.TextChoices):
    INCREASE = "increase", _("Higher is better")
    DECREASE = "decrease", _("Lower is better")
    MAINTAIN = "maintain", _("Keep at the target")


class Aggregation(models.TextChoices):
    SUM = "sum", _("Sum")
    AVERAGE = "average", _("Average")
    LATEST = "latest", _("Latest value")


# Values are kept exactly as integers in thousandths: 12.5 people per household is 12500.
SCALE = 1000
