"""customer portal: status links and service ratings

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import bpmn_requests.store.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'portal_links',
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('request_reference', sa.String(length=30), nullable=False),
        sa.Column('created_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['request_reference'], ['requests.reference'],
                                name=op.f('fk_portal_links_request_reference_requests')),
        sa.PrimaryKeyConstraint('token_sha256', name=op.f('pk_portal_links')),
    )
    op.create_index(op.f('ix_portal_links_request_reference'), 'portal_links', ['request_reference'])
    op.create_table(
        'service_ratings',
        sa.Column('request_reference', sa.String(length=30), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_service_ratings_score_from_1_to_5')),
        sa.ForeignKeyConstraint(['request_reference'], ['requests.reference'],
                                name=op.f('fk_service_ratings_request_reference_requests')),
        sa.PrimaryKeyConstraint('request_reference', name=op.f('pk_service_ratings')),
    )


def downgrade() -> None:
    op.drop_table('service_ratings')
    op.drop_index(op.f('ix_portal_links_request_reference'), table_name='portal_links')
    op.drop_table('portal_links')
