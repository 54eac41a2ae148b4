"""unit liaison details, campaign categories, daily tallies

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:42:53.821484

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('daily_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('new_participants', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_daily_tallies_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_tallies')),
    sa.UniqueConstraint('campaign_id', 'day', name=op.f('uq_daily_tallies_campaign_id'))
    )
    # Attempts made before this revision: count them into the daily tallies once.
    op.execute("""
        INSERT INTO daily_tallies (campaign_id, day, attempts, new_participants)
        SELECT a.campaign_id, a.day, COUNT(*),
               COUNT(DISTINCT CASE WHEN a.day = (SELECT MIN(b.day) FROM attempts b
                                      WHERE b.campaign_id = a.campaign_id
                                        AND b.participant_id = a.participant_id
                                        AND b.status = 'SUBMITTED')
                                   THEN a.participant_id END)
        FROM attempts a WHERE a.status = 'SUBMITTED'
        GROUP BY a.campaign_id, a.day
    """)
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('categories', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('liaison_name', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('liaison_gender', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('liaison_title', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('liaison_office_phone', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('liaison_mobile', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('liaison_fax', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('liaison_qq', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('liaison_wechat', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('liaison_email', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('liaison_address', sa.String(length=200), nullable=True))



def downgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('liaison_address')
        batch_op.drop_column('liaison_email')
        batch_op.drop_column('liaison_wechat')
        batch_op.drop_column('liaison_qq')
        batch_op.drop_column('liaison_fax')
        batch_op.drop_column('liaison_mobile')
        batch_op.drop_column('liaison_office_phone')
        batch_op.drop_column('liaison_title')
        batch_op.drop_column('liaison_gender')
        batch_op.drop_column('liaison_name')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('categories')

    op.drop_table('daily_tallies')
