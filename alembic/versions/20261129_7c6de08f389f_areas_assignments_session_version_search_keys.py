"""Areas (辖区/片区) and officers' assignments; sessions end on a version bump; search and pinyin sort keys.

Revision ID: 7c6de08f389f
Revises: 632d68acf3d4
Create Date: 2026-11-29 21:40:24.278801

The three new foreign-key columns are added with inline ``REFERENCES`` so SQLite adds
them with ``ALTER TABLE … ADD COLUMN`` instead of rebuilding ``cases`` (which the
events' foreign keys would refuse to drop). The keys of existing parties and cases are
filled here with the same functions the application uses (``mediation.textkeys``).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mediation.textkeys import name_key, names_pinyin_key, pinyin_key, text_key

revision: str = '7c6de08f389f'
down_revision: str | None = '632d68acf3d4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_areas_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_areas_organisation_id_name'))
    )
    op.create_table('officer_areas',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_officer_areas_area_id_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_officer_areas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'area_id', name=op.f('pk_officer_areas'))
    )
    op.create_table('officer_enterprises',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_officer_enterprises_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_officer_enterprises_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'enterprise_id', name=op.f('pk_officer_enterprises'))
    )
    for table in ('cases', 'enterprises', 'users'):
        op.add_column(
            table,
            sa.Column('area_id', sa.Integer(), sa.ForeignKey('areas.id', name=op.f(f'fk_{table}_area_id_areas')),
                      nullable=True),
            inline_references=True,
        )
    op.add_column('cases', sa.Column('search_key', sa.Text(), server_default='', nullable=False))
    op.add_column('cases', sa.Column('party_key', sa.String(length=255), server_default='', nullable=False))
    op.create_index(op.f('ix_cases_area_id'), 'cases', ['area_id'], unique=False)
    op.create_index('ix_cases_org_filed', 'cases', ['organisation_id', 'filed_at', 'id'], unique=False)
    op.create_index('ix_cases_org_party_key', 'cases', ['organisation_id', 'party_key', 'id'], unique=False)
    op.create_index('ix_cases_org_updated', 'cases', ['organisation_id', 'updated_at', 'id'], unique=False)
    op.add_column('parties', sa.Column('name_key', sa.String(length=200), server_default='', nullable=False))
    op.add_column('parties', sa.Column('sort_key', sa.String(length=255), server_default='', nullable=False))
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    _backfill()


def _backfill() -> None:
    """Fill the keys of the parties and cases already recorded."""
    conn = op.get_bind()
    parties = sa.table('parties', sa.column('id'), sa.column('case_id'), sa.column('position'), sa.column('role'),
                       sa.column('kind'), sa.column('name'), sa.column('name_key'), sa.column('sort_key'))
    cases = sa.table('cases', sa.column('id'), sa.column('number'), sa.column('title'), sa.column('facts'),
                     sa.column('claims'), sa.column('search_key'), sa.column('party_key'))
    names: dict[int, list[tuple[int, int, str, str]]] = {}
    rows = conn.execute(sa.select(parties.c.id, parties.c.case_id, parties.c.position, parties.c.role,
                                  parties.c.kind, parties.c.name)).all()
    for i in range(0, len(rows), BATCH):
        updates = []
        for pid, case_id, position, role, kind, name in rows[i:i + BATCH]:
            names.setdefault(case_id, []).append((position or 0, pid, role, name))
            updates.append({'pid': pid, 'nk': name_key(name), 'sk': pinyin_key(name, person=kind != 'organisation')})
        conn.execute(parties.update().where(parties.c.id == sa.bindparam('pid'))
                     .values(name_key=sa.bindparam('nk'), sort_key=sa.bindparam('sk')), updates)
    rows = conn.execute(sa.select(cases.c.id, cases.c.number, cases.c.title, cases.c.facts, cases.c.claims)).all()
    for i in range(0, len(rows), BATCH):
        updates = []
        for cid, number, title, facts, claims in rows[i:i + BATCH]:
            listed = sorted(names.get(cid, []))
            applicants = [n for _p, _i, role, n in listed if role == 'applicant'] or [n for *_r, n in listed]
            updates.append({'cid': cid, 'tk': text_key(number, title, facts, claims),
                            'pk': names_pinyin_key(applicants)})
        conn.execute(cases.update().where(cases.c.id == sa.bindparam('cid'))
                     .values(search_key=sa.bindparam('tk'), party_key=sa.bindparam('pk')), updates)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('area_id')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('sort_key')
        batch_op.drop_column('name_key')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('area_id')
    op.drop_index('ix_cases_org_updated', table_name='cases')
    op.drop_index('ix_cases_org_party_key', table_name='cases')
    op.drop_index('ix_cases_org_filed', table_name='cases')
    op.drop_index(op.f('ix_cases_area_id'), table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('party_key')
        batch_op.drop_column('search_key')
        batch_op.drop_column('area_id')
    op.drop_table('officer_enterprises')
    op.drop_table('officer_areas')
    op.drop_table('areas')
