"""API tokens and idempotency keys of the REST API

Revision ID: 0004
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bpmn_requests.store.base

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('created_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['username'], ['users.username'], name=op.f('fk_api_tokens_username_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_sha256', name=op.f('uq_api_tokens_token_sha256')),
    )
    op.create_index(op.f('ix_api_tokens_username'), 'api_tokens', ['username'])
    op.create_table(
        'api_idempotency',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('request_sha256', sa.String(length=64), nullable=False),
        sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=True),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('reference', sa.String(length=30), nullable=True),
        sa.Column('created_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', 'username', name=op.f('pk_api_idempotency')),
    )


def downgrade() -> None:
    op.drop_table('api_idempotency')
    op.drop_index(op.f('ix_api_tokens_username'), table_name='api_tokens')
    op.drop_table('api_tokens')
