"""indexes for the individual leaderboards

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:53:44.707490

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participant_standings', schema=None) as batch_op:
        batch_op.create_index('ix_participant_standings_top_best', ['campaign_id', 'best_score', 'best_duration_ms', 'best_at'], unique=False)
        batch_op.create_index('ix_participant_standings_top_points', ['campaign_id', 'points_total'], unique=False)



def downgrade():
    with op.batch_alter_table('participant_standings', schema=None) as batch_op:
        batch_op.drop_index('ix_participant_standings_top_points')
        batch_op.drop_index('ix_participant_standings_top_best')

