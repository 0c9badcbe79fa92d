"""channel fields: attachments fetch, edits, coordinates, holds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:57:18.388176

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_status', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_fetch_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('fetch_error', sa.String(length=255), nullable=True))
        batch_op.alter_column('external_id',
               existing_type=sa.VARCHAR(length=255),
               type_=sa.String(length=512),
               existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_attachments_fetch_status'), ['fetch_status'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Double(), nullable=True))

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_window_start', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('rate_window_count', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_ref', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('edit_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_messages_edit_of_id_messages'), 'messages', ['edit_of_id'], ['id'])



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_messages_edit_of_id_messages'), type_='foreignkey')
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('edit_of_id')
        batch_op.drop_column('provider_ref')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('rate_window_count')
        batch_op.drop_column('rate_window_start')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_fetch_status'))
        batch_op.alter_column('external_id',
               existing_type=sa.String(length=512),
               type_=sa.VARCHAR(length=255),
               existing_nullable=True)
        batch_op.drop_column('fetch_error')
        batch_op.drop_column('next_fetch_at')
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('fetch_status')

