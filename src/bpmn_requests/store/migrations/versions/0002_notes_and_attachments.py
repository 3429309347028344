"""notes and attachments of requests

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import bpmn_requests.store.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'request_notes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('request_reference', sa.String(length=30), nullable=False),
        sa.Column('author', sa.String(length=80), nullable=False),
        sa.Column('visibility', sa.String(length=10), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_reference'], ['requests.reference'],
                                name=op.f('fk_request_notes_request_reference_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_notes')),
    )
    op.create_index(op.f('ix_request_notes_request_reference'), 'request_notes', ['request_reference'])
    op.create_table(
        'attachments',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('request_reference', sa.String(length=30), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=80), nullable=False),
        sa.Column('visibility', sa.String(length=10), nullable=False),
        sa.Column('created_at', bpmn_requests.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_reference'], ['requests.reference'],
                                name=op.f('fk_attachments_request_reference_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index(op.f('ix_attachments_request_reference'), 'attachments', ['request_reference'])


def downgrade() -> None:
    op.drop_index(op.f('ix_attachments_request_reference'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_index(op.f('ix_request_notes_request_reference'), table_name='request_notes')
    op.drop_table('request_notes')
