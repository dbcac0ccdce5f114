"""`manage.py coordination_train [--actor USERNAME]`: re-estimates the coordination model's parameters from the
corpus (u from random pairs) and the ministry's decisions (m from the decided flags: duplicate and joint funding are
matches, distinct is not; EM where they are too few), stores them as a new active model version (audited), and
prints what changed: the prior and every weight that moved by 0.1 or more."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Re-estimate the coordination model from the ministry's decisions and make it the active version."

    def add_arguments(self, parser):
        parser.add_argument("--actor", help="the username recorded as training (a ministry user; default: none)")

    def handle(self, *args, actor=None, **options):
        from shafaf.accounts.models import User
        from shafaf.coordination.services import model_train

        user = None
        if actor:
            user = User.objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"No user {actor!r}.")
        previous, new, summary = model_train(actor=user)
        self.stdout.write(
            f"model v{new.number} is active (was v{previous.number}): {new.labels_used} decisions used as labels, "
            f"{new.records_used:,} projects"
        )
        for line in describe_changes(previous.params, new.params):
            self.stdout.write(line)
        for key, value in (summary or {}).items():
            self.stdout.write(f"{key}: {value}")


def describe_changes(before: dict, after: dict, *, at_least: float = 0.1) -> list[str]:
    """The prior and the level weights that changed, as lines "signal/level: old -> new"."""
    from shafaf.coordination.model import Params

    old, new = Params.from_dict(before), Params.from_dict(after)
    lines = []
    if abs(old.prior - new.prior) >= at_least / 10:
        lines.append(f"prior: {old.prior:+.2f} -> {new.prior:+.2f}")
    old_weights, new_weights = old.weights(), new.weights()
    for signal, levels in new_weights.items():
        for level, weight in levels.items():
            was = old_weights.get(signal, {}).get(level, 0.0)
            if abs(weight - was) >= at_least:
                lines.append(f"{signal}/{level}: {was:+.1f} -> {weight:+.1f}")
    if not lines:
        lines.append("no weight changed by 0.1 or more")
    return lines
