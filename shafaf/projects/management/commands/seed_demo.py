"""`manage.py seed_demo`: a believable demo world, built through the services (so it is all audited).

The two ministries, six Kuwaiti charities, foreign partners and a few hundred projects taken from
real IATI activities in the shared data folder (or a dozen built-in projects when it is absent), and
the demo logins, all with the password "demo".
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shafaf.projects.demo.seed import DEFAULT_SEED, DemoSeeder, database_has_data, summary_lines, taken_usernames


class Command(BaseCommand):
    help = (
        "Loads the demo world (authorities, charities, partners, projects from real IATI activities, "
        'demo logins with the password "demo") into an empty database.'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--projects", type=int, default=300, metavar="N", help="how many projects to make (default 300)"
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="the shared data folder (default: settings.SHARED_DATA_DIR); without its IATI file, "
            "a dozen built-in projects are used",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing, successfully, when the database already holds organisations",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="the random seed of every choice (default: fixed)"
        )

    def handle(self, *args, projects, data_dir, if_empty, seed, **options):
        if projects < 0:
            raise CommandError("--projects must be 0 or more.")
        if database_has_data():
            if if_empty:
                if options["verbosity"] >= 1:
                    self.stdout.write("seed_demo: the database already holds data; nothing to do.")
                return
            raise CommandError(
                "The database already holds organisations (already seeded?). "
                "seed_demo loads an empty database only; use --if-empty to skip quietly."
            )
        taken = taken_usernames()
        if taken:
            raise CommandError(f"These demo usernames are already taken: {', '.join(taken)}.")

        verbose = options["verbosity"] >= 1
        seeder = DemoSeeder(
            projects=projects,
            data_dir=data_dir or settings.SHARED_DATA_DIR,
            seed=seed,
            say=self.stdout.write if verbose else (lambda line: None),
        )
        result = seeder.run()
        if verbose:
            for line in summary_lines(result):
                self.stdout.write(line)
