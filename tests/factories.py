"""Test data factories, all in one place."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils import timezone

from portal.models import Area, School, Shelter, User
from portal.notices.models import Notice

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A resident whose email address is verified, so allauth lets them log in."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"resident{n}@example.jp")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def verified_email(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@city.example.jp")
    is_staff = True

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:  # noqa: N805
        for name in extracted or []:
            obj.groups.add(Group.objects.get(name=name))


class MunicipalityFactory(factory.django.DjangoModelFactory[Area]):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = "072028"
    kind = Area.Kind.MUNICIPALITY
    name_ja = "会津若松市"
    name_en = "Aizuwakamatsu"


class DistrictFactory(factory.django.DjangoModelFactory[Area]):
    class Meta:
        model = Area

    code = factory.Sequence(lambda n: f"072028-district-{n}")
    kind = Area.Kind.DISTRICT
    parent = factory.SubFactory(MunicipalityFactory)
    name_ja = factory.Sequence(lambda n: f"第{n}地区")
    name_en = factory.Sequence(lambda n: f"District {n}")


class ShelterFactory(factory.django.DjangoModelFactory[Shelter]):
    class Meta:
        model = Shelter

    source_id = factory.Sequence(lambda n: f"shelter-{n}")
    kind = Shelter.Kind.SHELTER
    area = factory.SubFactory(DistrictFactory)
    name_ja = factory.Sequence(lambda n: f"避難所{n}")
    address = "会津若松市東栄町3-46"
    latitude = Decimal("37.494761")
    longitude = Decimal("139.929808")
    for_earthquake = True


class SchoolFactory(factory.django.DjangoModelFactory[School]):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"school-{n}")
    kind = School.Kind.ELEMENTARY
    area = factory.SubFactory(DistrictFactory)
    name_ja = factory.Sequence(lambda n: f"第{n}小学校")


class NoticeFactory(factory.django.DjangoModelFactory[Notice]):
    """A published notice for everyone, written straight to the table: for tests of what
    readers do with notices, not of the publishing workflow (tests/notices covers that)."""

    class Meta:
        model = Notice

    category = "city_news"
    status = "published"
    title_ja = factory.Sequence(lambda n: f"お知らせ{n}")
    body_ja = "本文"
    published_at = factory.LazyFunction(timezone.now)
