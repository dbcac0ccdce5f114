"""End-to-end, in headless Chromium: a visitor without an account finds the open-data page from the navigation bar,
reads it in Arabic (right to left) and English, and downloads a charity's 360Giving file, which validates."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from shafaf.finance.tests.helpers import license_project, register
from shafaf.interop.giving import jsonexact
from shafaf.interop.giving.validation import package_problems
from tests.e2e.test_browser import assert_no_problems, expect_language
from tests.factories import World

pytestmark = pytest.mark.e2e


def test_open_data_page_in_arabic_and_english(open_page, live_server):
    world = World()
    project = license_project(world)
    register(world, project, number="C-1", amount="1500.250", signed_on=dt.date(2026, 1, 10))

    page = open_page(locale="ar-KW")
    page.goto("/accounts/login/")
    page.locator('[data-testid="nav-open-data"]').click()
    expect(page).to_have_url(f"{live_server.url}/open-data/")
    expect_language(page, "ar")
    row = page.locator('[data-testid="open-data-charity-charity-a"]')
    expect(row).to_contain_text("جمعية النور الخيرية")
    expect(page.locator('[data-testid="open-data-licence"] a')).to_have_attribute(
        "href", "https://creativecommons.org/licenses/by/4.0/"
    )
    link = page.locator('[data-testid="giving-360-charity-a"]')
    href = link.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    package = jsonexact.loads(response.body())
    assert package_problems(package) == []
    assert str(package["grants"][0]["amountAwarded"]) == "1500.250"

    page.locator('[data-testid="language-switch"]').click()
    expect_language(page, "en")
    expect(page.locator('[data-testid="open-data-title"]')).to_have_text("Open data")
    expect(row).to_contain_text("Al-Noor Charity")
    expect(page.locator('[data-testid="open-data-charity-charity-b"]')).to_contain_text("Nothing published yet.")
    assert_no_problems(page)
