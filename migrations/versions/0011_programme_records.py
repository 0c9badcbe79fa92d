"""programme records: projects, trainings, staff headcounts, awareness sessions and surveys,
channel availability, report submissions, lessons learned; cases linked to a project

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 09:30:32.181952

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_headcounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=32), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_headcounts')),
    sa.UniqueConstraint('location', name=op.f('uq_staff_headcounts_location'))
    )
    op.create_table('channel_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('promoted', sa.Boolean(), nullable=True),
    sa.Column('working', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_channel_availability_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_availability')),
    sa.UniqueConstraint('location', 'channel', name='uq_channel_availability_location_channel')
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('donor', sa.String(length=200), nullable=False),
    sa.Column('locations', sa.JSON(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('team', sa.Text(), nullable=False),
    sa.Column('has_strategy', sa.Boolean(), nullable=False),
    sa.Column('strategy_filename', sa.String(length=255), nullable=True),
    sa.Column('strategy_content_type', sa.String(length=100), nullable=True),
    sa.Column('strategy_storage_key', sa.String(length=64), nullable=True),
    sa.Column('focal_point_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['focal_point_id'], ['users.id'], name=op.f('fk_projects_focal_point_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    op.create_table('report_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=True),
    sa.Column('last_generated_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_report_submissions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_submissions')),
    sa.UniqueConstraint('month', name=op.f('uq_report_submissions_month'))
    )
    op.create_table('trainings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('location', sa.String(length=32), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_trainings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainings'))
    )
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainings_held_on'), ['held_on'], unique=False)

    op.create_table('awareness_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('location', sa.String(length=32), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('women', sa.Integer(), nullable=False),
    sa.Column('men', sa.Integer(), nullable=False),
    sa.Column('girls', sa.Integer(), nullable=False),
    sa.Column('boys', sa.Integer(), nullable=False),
    sa.Column('channels_promoted', sa.JSON(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_awareness_sessions_created_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_awareness_sessions_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awareness_sessions'))
    )
    with op.batch_alter_table('awareness_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awareness_sessions_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_awareness_sessions_project_id'), ['project_id'], unique=False)

    op.create_table('awareness_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('interviewed', sa.Integer(), nullable=False),
    sa.Column('aware', sa.Integer(), nullable=False),
    sa.Column('know_how', sa.Integer(), nullable=False),
    sa.Column('preferred_channels', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_awareness_surveys_created_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_awareness_surveys_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awareness_surveys'))
    )
    with op.batch_alter_table('awareness_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awareness_surveys_period_end'), ['period_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_awareness_surveys_project_id'), ['project_id'], unique=False)

    op.create_table('training_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('own_staff', sa.Boolean(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_training_participants_training_id_trainings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_participants'))
    )
    with op.batch_alter_table('training_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_participants_training_id'), ['training_id'], unique=False)

    op.create_table('lessons_learned',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_lessons_learned_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lessons_learned_created_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_lessons_learned_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lessons_learned'))
    )
    with op.batch_alter_table('lessons_learned', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lessons_learned_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lessons_learned_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lessons_learned_project_id'), ['project_id'], unique=False)

    # A column with its REFERENCES clause, added in place: on SQLite, a separate foreign key
    # would rebuild ``cases``, and dropping the old table fails while messages, referrals and
    # the rest reference its rows (foreign keys are enforced).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE cases ADD COLUMN project_id INTEGER '
                   'CONSTRAINT fk_cases_project_id_projects REFERENCES projects (id)')
    else:
        op.add_column('cases', sa.Column('project_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_cases_project_id_projects'), 'cases', 'projects',
                              ['project_id'], ['id'])
    op.create_index(op.f('ix_cases_project_id'), 'cases', ['project_id'], unique=False)



def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':  # there it goes with its column
            batch_op.drop_constraint(batch_op.f('fk_cases_project_id_projects'),
                                     type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_project_id'))
        batch_op.drop_column('project_id')

    with op.batch_alter_table('lessons_learned', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lessons_learned_project_id'))
        batch_op.drop_index(batch_op.f('ix_lessons_learned_created_at'))
        batch_op.drop_index(batch_op.f('ix_lessons_learned_case_id'))

    op.drop_table('lessons_learned')
    with op.batch_alter_table('training_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_participants_training_id'))

    op.drop_table('training_participants')
    with op.batch_alter_table('awareness_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awareness_surveys_project_id'))
        batch_op.drop_index(batch_op.f('ix_awareness_surveys_period_end'))

    op.drop_table('awareness_surveys')
    with op.batch_alter_table('awareness_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awareness_sessions_project_id'))
        batch_op.drop_index(batch_op.f('ix_awareness_sessions_held_on'))

    op.drop_table('awareness_sessions')
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainings_held_on'))

    op.drop_table('trainings')
    op.drop_table('report_submissions')
    op.drop_table('projects')
    op.drop_table('channel_availability')
    op.drop_table('staff_headcounts')
