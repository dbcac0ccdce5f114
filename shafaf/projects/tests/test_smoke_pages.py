import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_charity_admin_sees_own_project_and_not_the_other_charitys(world, login):
    client = login(world.najat)
    response = client.get(reverse("projects:project_list"))
    assert response.status_code == 200
    assert world.project_a.reference in response.text
    assert world.project_b.reference not in response.text
    assert client.get(reverse("projects:project_detail", args=[world.project_b.pk])).status_code == 404


def test_home_page_is_arabic_and_right_to_left_by_default(world, login):
    response = login(world.reviewer).get("/")
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in response.text
