"""information line: entries officers keep, and each answer given with the person's feedback

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('info_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('question_ar', sa.Text(), nullable=False),
    sa.Column('question_en', sa.Text(), nullable=False),
    sa.Column('answer_ar', sa.Text(), nullable=False),
    sa.Column('answer_en', sa.Text(), nullable=False),
    sa.Column('audio_storage_key', sa.String(length=64), nullable=True),
    sa.Column('audio_content_type', sa.String(length=100), nullable=True),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('also', sa.JSON(), nullable=False),
    sa.Column('asks', sa.JSON(), nullable=False),
    sa.Column('unless', sa.JSON(), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('locations', sa.JSON(), nullable=False),
    sa.Column('projects', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('approved_by', sa.String(length=120), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_entries')),
    sa.UniqueConstraint('code', name=op.f('uq_info_entries_code'))
    )
    op.create_table('info_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('feedback_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_info_answers_case_id_cases')),
    sa.ForeignKeyConstraint(['entry_id'], ['info_entries.id'], name=op.f('fk_info_answers_entry_id_info_entries')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_info_answers_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_answers'))
    )
    with op.batch_alter_table('info_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_answers_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_answers_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_answers_entry_id'), ['entry_id'], unique=False)


def downgrade():
    with op.batch_alter_table('info_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_answers_entry_id'))
        batch_op.drop_index(batch_op.f('ix_info_answers_created_at'))
        batch_op.drop_index(batch_op.f('ix_info_answers_case_id'))

    op.drop_table('info_answers')
    op.drop_table('info_entries')
