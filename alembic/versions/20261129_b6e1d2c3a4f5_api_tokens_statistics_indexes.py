"""API tokens; indexes of the statistics (acceptance, closing, agreements in force, events by trigger).

Revision ID: b6e1d2c3a4f5
Revises: 4888c72604de
Create Date: 2026-11-29 22:10:00.000000

Each statistics figure counts one kind of event in a period of time within the
organisation, so it reads an index range: ``cases (organisation_id, accepted_at)``,
``cases (organisation_id, closed_at)``, ``agreements (effective_at)`` and
``events (trigger, at)`` (follow-up visits, escalations). Filing is already covered by
``ix_cases_org_filed``.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediation.types

revision: str = 'b6e1d2c3a4f5'
down_revision: str | None = '4888c72604de'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', mediation.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', mediation.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', mediation.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_index('ix_cases_org_accepted', 'cases', ['organisation_id', 'accepted_at'], unique=False)
    op.create_index('ix_cases_org_closed', 'cases', ['organisation_id', 'closed_at'], unique=False)
    op.create_index('ix_agreements_effective', 'agreements', ['effective_at'], unique=False)
    op.create_index('ix_events_trigger_at', 'events', ['trigger', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_trigger_at', table_name='events')
    op.drop_index('ix_agreements_effective', table_name='agreements')
    op.drop_index('ix_cases_org_closed', table_name='cases')
    op.drop_index('ix_cases_org_accepted', table_name='cases')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
