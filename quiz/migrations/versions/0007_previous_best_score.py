"""participant_standings.previous_best_score: the best before the latest paper, which the
submission's upsert returns so that the unit's totals need no read first

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows need no real value: each submission sets it before it is read.
    with op.batch_alter_table('participant_standings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_best_score', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('participant_standings', schema=None) as batch_op:
        batch_op.drop_column('previous_best_score')
