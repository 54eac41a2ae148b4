"""practice answers for 在线学习 and the 错题本

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:34:22.421422

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('practice_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('device_key', sa.String(length=43), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('chosen', sa.JSON(), nullable=False),
    sa.Column('is_correct', sa.Boolean(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_practice_answers_participant_id_participants')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_practice_answers_question_id_questions')),
    sa.ForeignKeyConstraint(['version_id'], ['question_versions.id'], name=op.f('fk_practice_answers_version_id_question_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_answers'))
    )
    with op.batch_alter_table('practice_answers', schema=None) as batch_op:
        batch_op.create_index('ix_practice_answers_device', ['device_key', 'question_id', 'answered_at'], unique=False)
        batch_op.create_index('ix_practice_answers_participant', ['participant_id', 'question_id', 'answered_at'], unique=False)



def downgrade():
    with op.batch_alter_table('practice_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_answers_participant')
        batch_op.drop_index('ix_practice_answers_device')

    op.drop_table('practice_answers')
