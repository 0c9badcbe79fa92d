"""answered referrals index: the queue's "a referral was answered" from an index alone

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 13:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_answered_case_id', ['case_id'], unique=False,
                              postgresql_where=sa.text('answered_at IS NOT NULL'),
                              sqlite_where=sa.text('answered_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_answered_case_id')
