"""unattended work: due times on instances, incidents, received messages, message subscriptions

Revision ID: 0005
Revises: 0003, 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bpmn_requests.store.base

revision = '0005'
down_revision = ('0003', '0004')
branch_labels = None
depends_on = None

UTC_DATETIME = bpmn_requests.store.base.UtcDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('due_at', UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('dispatched_at', UTC_DATETIME, nullable=True))
        batch.create_index('ix_instances_status_due_at', ['status', 'due_at'])
    op.create_table(
        'incidents',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('instance_id', sa.String(length=32), nullable=False),
        sa.Column('request_reference', sa.String(length=30), nullable=False),
        sa.Column('element_id', sa.String(length=200), nullable=True),
        sa.Column('error_code', sa.String(length=80), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.Column('resolved_at', UTC_DATETIME, nullable=True),
        sa.Column('resolved_by', sa.String(length=80), nullable=True),
        sa.Column('resolution', sa.String(length=20), nullable=True),
        sa.Column('resolution_data', JSON, nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_incidents_instance_id_instances')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    )
    op.create_index(op.f('ix_incidents_instance_id'), 'incidents', ['instance_id'])
    op.create_index(op.f('ix_incidents_request_reference'), 'incidents', ['request_reference'])
    op.create_table(
        'messages',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('correlation_key', sa.String(length=200), nullable=False),
        sa.Column('variables', JSON, nullable=False),
        sa.Column('sender', sa.String(length=80), nullable=False),
        sa.Column('received_at', UTC_DATETIME, nullable=False),
        sa.Column('expires_at', UTC_DATETIME, nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('instance_id', sa.String(length=32), nullable=True),
        sa.Column('element_id', sa.String(length=200), nullable=True),
        sa.Column('request_reference', sa.String(length=30), nullable=True),
        sa.Column('delivered_at', UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
        sa.UniqueConstraint('name', 'message_id', name='uq_messages_name_message_id'),
    )
    op.create_index('ix_messages_buffered', 'messages', ['status', 'name', 'correlation_key'])
    op.create_table(
        'message_subscriptions',
        sa.Column('instance_id', sa.String(length=32), nullable=False),
        sa.Column('element_id', sa.String(length=200), nullable=False),
        sa.Column('message', sa.String(length=200), nullable=False),
        sa.Column('correlation_key', sa.String(length=200), nullable=True),
        sa.Column('request_reference', sa.String(length=30), nullable=False),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['instances.id'],
                                name=op.f('fk_message_subscriptions_instance_id_instances')),
        sa.PrimaryKeyConstraint('instance_id', 'element_id', 'message', name=op.f('pk_message_subscriptions')),
    )
    op.create_index('ix_message_subscriptions_key', 'message_subscriptions', ['message', 'correlation_key'])


def downgrade() -> None:
    op.drop_index('ix_message_subscriptions_key', table_name='message_subscriptions')
    op.drop_table('message_subscriptions')
    op.drop_index('ix_messages_buffered', table_name='messages')
    op.drop_table('messages')
    op.drop_index(op.f('ix_incidents_request_reference'), table_name='incidents')
    op.drop_index(op.f('ix_incidents_instance_id'), table_name='incidents')
    op.drop_table('incidents')
    with op.batch_alter_table('instances') as batch:
        batch.drop_index('ix_instances_status_due_at')
        batch.drop_column('dispatched_at')
        batch.drop_column('attempts')
        batch.drop_column('due_at')
