"""deadlines and alerts: notifications, Telegram link of staff, satisfaction survey

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('email_status', sa.String(length=16), nullable=False),
    sa.Column('email_attempts', sa.Integer(), nullable=False),
    sa.Column('email_next_at', sa.DateTime(), nullable=True),
    sa.Column('email_sent_at', sa.DateTime(), nullable=True),
    sa.Column('email_error', sa.String(length=255), nullable=True),
    sa.Column('telegram_status', sa.String(length=16), nullable=False),
    sa.Column('telegram_attempts', sa.Integer(), nullable=False),
    sa.Column('telegram_next_at', sa.DateTime(), nullable=True),
    sa.Column('telegram_sent_at', sa.DateTime(), nullable=True),
    sa.Column('telegram_error', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_notifications_email_status_email_next_at', ['email_status', 'email_next_at'], unique=False)
        batch_op.create_index('ix_notifications_telegram_status_telegram_next_at', ['telegram_status', 'telegram_next_at'], unique=False)
        batch_op.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfaction', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('survey_sent_at', sa.DateTime(), nullable=True))

    # Columns and a unique index, not a unique constraint: on SQLite a constraint would
    # rebuild ``users``, which other tables reference (and foreign keys are enforced).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telegram_chat_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('telegram_linked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('telegram_link_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('telegram_link_expires_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_users_telegram_link_code_hash'), 'users', ['telegram_link_code_hash'], unique=True)


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch rebuild of tables that
    # others reference: with foreign keys enforced, dropping a populated ``users`` fails.
    op.drop_index(op.f('ix_users_telegram_link_code_hash'), table_name='users')
    for column in ('telegram_link_expires_at', 'telegram_link_code_hash', 'telegram_linked_at',
                   'telegram_chat_encrypted'):
        op.drop_column('users', column)
    for column in ('survey_sent_at', 'satisfaction_at', 'satisfaction'):
        op.drop_column('cases', column)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_read_at')
        batch_op.drop_index('ix_notifications_telegram_status_telegram_next_at')
        batch_op.drop_index('ix_notifications_email_status_email_next_at')
        batch_op.drop_index(batch_op.f('ix_notifications_case_id'))

    op.drop_table('notifications')
