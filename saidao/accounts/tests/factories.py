from __future__ import annotations

from django.utils import timezone
from factory.declarations import LazyFunction, Sequence, SubFactory
from factory.django import DjangoModelFactory, Password
from factory.faker import Faker

from saidao.accounts.models import Membership, User


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = Sequence(lambda n: f"135{n:08d}")
    real_name = Faker("name", locale="zh_CN")
    employer = "定西市某快递公司"
    position = "快递员"
    activated_at = LazyFunction(timezone.now)
    password = Password("Passw0rd-test")


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = SubFactory(UserFactory)
    source = Membership.Source.INVITE
