"""Webhooks per issuer (endpoints, events, deliveries, attempts); learner emails (issuer
settings, opt-outs)

Revision ID: 0012w
Revises: 0012o
Create Date: 2026-12-02 12:10:00
"""

from typing import Any

from alembic import op
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString


revision = '0012w'
down_revision = '0012o'
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('url', AutoString(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', AutoString(length=500), nullable=False),
        sa.Column('description', AutoString(length=500), nullable=True),
        _time('created_at'),
        _time('removed_at', True),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_endpoint_issuer_id', 'webhook_endpoint', ['issuer_id'])
    op.create_table(
        'webhook_event',
        sa.Column('id', AutoString(length=40), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('type', AutoString(length=40), nullable=False),
        sa.Column('subject', AutoString(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        _time('created_at'),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuer_id', 'subject'),
    )
    op.create_index('ix_webhook_event_issuer_id', 'webhook_event', ['issuer_id'])
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', AutoString(length=40), nullable=False),
        sa.Column('state', AutoString(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', AutoString(length=2000), nullable=True),
        _time('next_attempt_at', True),
        _time('delivered_at', True),
        _time('created_at'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id']),
        sa.ForeignKeyConstraint(['event_id'], ['webhook_event.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint_id', 'event_id'),
    )
    op.create_index('ix_webhook_delivery_endpoint_id', 'webhook_delivery', ['endpoint_id'])
    op.create_index('ix_webhook_delivery_event_id', 'webhook_delivery', ['event_id'])
    op.create_table(
        'webhook_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        _time('at'),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('response', AutoString(length=1000), nullable=True),
        sa.Column('error', AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_attempt_delivery_id', 'webhook_attempt', ['delivery_id'])
    op.create_table(
        'issuer_mail',
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('language', AutoString(length=8), nullable=True),
        sa.Column('templates', sa.JSON(), nullable=False),
        _time('updated_at'),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id']),
        sa.PrimaryKeyConstraint('issuer_id'),
    )
    op.create_table(
        'mail_opt_out',
        sa.Column('learner_id', sa.Integer(), nullable=False),
        _time('created_at'),
        sa.ForeignKeyConstraint(['learner_id'], ['learner.id']),
        sa.PrimaryKeyConstraint('learner_id'),
    )


def downgrade() -> None:
    op.drop_table('mail_opt_out')
    op.drop_table('issuer_mail')
    op.drop_index('ix_webhook_attempt_delivery_id', table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    op.drop_index('ix_webhook_delivery_event_id', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_endpoint_id', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index('ix_webhook_event_issuer_id', table_name='webhook_event')
    op.drop_table('webhook_event')
    op.drop_index('ix_webhook_endpoint_issuer_id', table_name='webhook_endpoint')
    op.drop_table('webhook_endpoint')
