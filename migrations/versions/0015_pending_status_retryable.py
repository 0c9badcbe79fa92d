"""pending status retryable: a kept failure report that may pass is retried, not final

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 02:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

RETRYABLE_DELIVERY_CODES = ('30001', '30003', '30008', '30036', '63018')


def upgrade():
    with op.batch_alter_table('pending_statuses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retryable', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # A failure kept before this revision was stored without the flag: mark the ones whose
    # Twilio code may pass (channels.twilio_http.RETRYABLE_DELIVERY_CODES, as of this revision).
    pending = sa.table('pending_statuses', sa.column('status', sa.String()),
                       sa.column('error_code', sa.String()),
                       sa.column('retryable', sa.Boolean()))
    op.execute(pending.update()
               .where(pending.c.status == 'failed',
                      pending.c.error_code.in_(RETRYABLE_DELIVERY_CODES))
               .values(retryable=True))


def downgrade():
    with op.batch_alter_table('pending_statuses', schema=None) as batch_op:
        batch_op.drop_column('retryable')
