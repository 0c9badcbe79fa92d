"""info entry sorani: an information entry's optional question and answer in Sorani Kurdish

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # The entries kept before this revision have no Sorani: empty, so Sorani readers keep
    # getting the Arabic answer.
    with op.batch_alter_table('info_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question_ckb', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('answer_ckb', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade():
    with op.batch_alter_table('info_entries', schema=None) as batch_op:
        batch_op.drop_column('answer_ckb')
        batch_op.drop_column('question_ckb')
