"""The donations tests' common world: charity A with a licensed project, an approved bank account and a donor."""

import pytest
from django.utils import translation

from shafaf.finance.tests.helpers import license_project
from tests.factories import World, approved_bank_account, donor_of


@pytest.fixture
def setup(db):
    with translation.override("en"):
        world = World()
        project = license_project(world)
        account = approved_bank_account(world)
        donor = donor_of(world)
    return world, project, account, donor
