"""Scheduled sessions with R29 minutes, evidence attachments, group members and per-worker terms.

Revision ID: 4888c72604de
Revises: 7c6de08f389f
Create Date: 2026-11-29 21:41:21.448231

A session is now scheduled, held or cancelled (existing rows were held); ``held_at`` is
empty until it is held. ``obligations.member_id`` is added with an inline ``REFERENCES``
so SQLite adds it with ``ALTER TABLE … ADD COLUMN`` instead of rebuilding the table.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mediation.types

revision: str = '4888c72604de'
down_revision: str | None = '7c6de08f389f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', mediation.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)

    op.create_table('group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('amount_claimed', mediation.types.Money(precision=14, scale=2), nullable=True),
    sa.CheckConstraint('amount_claimed IS NULL OR amount_claimed >= 0', name=op.f('ck_group_members_amount_not_negative')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_group_members_party_id_parties'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_members')),
    sa.UniqueConstraint('party_id', 'id_number', name=op.f('uq_group_members_party_id_id_number')),
    sa.UniqueConstraint('party_id', 'position', name=op.f('uq_group_members_party_id_position'))
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_members_party_id'), ['party_id'], unique=False)

    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('scheduled', 'held', 'cancelled', name='session_status', native_enum=False, create_constraint=True, length=17), server_default='held', nullable=False))
        batch_op.add_column(sa.Column('scheduled_for', mediation.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rights_explained', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('verification', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('result', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('mediator_id', sa.Integer(), nullable=True))
        batch_op.alter_column('held_at',
               existing_type=mediation.types.UTCDateTime(timezone=True),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_mediation_sessions_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index('ix_mediation_sessions_status_scheduled_for', ['status', 'scheduled_for'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_mediation_sessions_mediator_id_users'), 'users', ['mediator_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_mediation_sessions_held_has_time'), "status <> 'held' OR held_at IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f('ck_mediation_sessions_scheduled_has_time'), "status <> 'scheduled' OR scheduled_for IS NOT NULL"
        )

    op.add_column(
        'obligations',
        sa.Column('member_id', sa.Integer(),
                  sa.ForeignKey('group_members.id', name=op.f('fk_obligations_member_id_group_members')),
                  nullable=True),
        inline_references=True,
    )


def downgrade() -> None:
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_column('member_id')  # its foreign key goes with it

    # A session that was never held has no time to keep in the old shape.
    op.execute("DELETE FROM mediation_sessions WHERE status <> 'held'")
    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_mediation_sessions_scheduled_has_time'), type_='check')
        batch_op.drop_constraint(op.f('ck_mediation_sessions_held_has_time'), type_='check')
        batch_op.drop_constraint(op.f('ck_mediation_sessions_session_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_mediation_sessions_mediator_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_mediation_sessions_status_scheduled_for')
        batch_op.drop_index(batch_op.f('ix_mediation_sessions_mediator_id'))
        batch_op.alter_column('held_at',
               existing_type=mediation.types.UTCDateTime(timezone=True),
               nullable=False)
        batch_op.drop_column('mediator_id')
        batch_op.drop_column('result')
        batch_op.drop_column('verification')
        batch_op.drop_column('rights_explained')
        batch_op.drop_column('scheduled_for')
        batch_op.drop_column('status')

    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_members_party_id'))

    op.drop_table('group_members')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_sha256'))
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
