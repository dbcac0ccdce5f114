from django.core.management.base import BaseCommand, CommandError

from shafaf.accounts.models import User
from shafaf.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Creates a personal API token for USERNAME and prints it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        _token, key = api_token_create(actor=user, user=user, name=name)
        self.stdout.write(key)
