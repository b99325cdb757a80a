"""factory_boy factories of the models; ``bind(session)`` points them at a test session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from mediation.enums import Role
from mediation.models import Enterprise, Organisation, User

_HASH = generate_password_hash("secret-pass")


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "commit"


class OrganisationFactory(_Base):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: "青田县公安局温溪派出所" if n == 0 else f"测试派出所{n}")
    short_name = factory.Sequence(lambda n: "温溪" if n == 0 else f"测{n}")
    committee_name = factory.LazyAttribute(lambda o: f"{o.short_name}派出所人民调解委员会")


class EnterpriseFactory(_Base):
    class Meta:
        model = Enterprise

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"青田县温溪镇某阀门有限公司{n}")


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password_hash = _HASH
    display_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.LIAISON_OFFICER
    organisation = factory.SubFactory(OrganisationFactory)
    enterprise = None
    active = True


def bind(session: Session) -> None:
    """Make every factory use ``session``."""
    for f in (OrganisationFactory, EnterpriseFactory, UserFactory):
        f._meta.sqlalchemy_session = session
    OrganisationFactory.reset_sequence()
