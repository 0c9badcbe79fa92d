"""pending statuses: delivery reports that came before the provider's id was stored

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_statuses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channels', sa.String(length=64), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error_code', sa.String(length=32), nullable=True),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('window_closed', sa.Boolean(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_statuses')),
    )
    with op.batch_alter_table('pending_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_statuses_external_id'), ['external_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_pending_statuses_received_at'), ['received_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('pending_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_statuses_received_at'))
        batch_op.drop_index(batch_op.f('ix_pending_statuses_external_id'))
    op.drop_table('pending_statuses')
