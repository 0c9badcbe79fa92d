"""triage assistant: what it suggested for each flagged message, beside the final decision

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('triage_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('hits', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_triage_suggestions_case_id_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_triage_suggestions_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_suggestions'))
    )
    with op.batch_alter_table('triage_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_suggestions_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('triage_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_suggestions_case_id'))

    op.drop_table('triage_suggestions')
