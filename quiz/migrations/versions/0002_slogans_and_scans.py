"""slogans, themes and poster link scans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:38:31.478497

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_themes',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_campaign_themes'))
    )
    op.create_table('link_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('QUIZ', 'REPORT', name='linkpurpose', native_enum=False, length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_link_scans_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_scans')),
    sa.UniqueConstraint('unit_id', 'purpose', 'day', name=op.f('uq_link_scans_unit_id'))
    )
    op.create_table('slogans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=64), nullable=False),
    sa.Column('is_official', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'APPROVED', 'REJECTED', name='sloganstatus', native_enum=False, length=16), nullable=False),
    sa.Column('author_name', sa.String(length=20), nullable=True),
    sa.Column('author_unit_id', sa.Integer(), nullable=True),
    sa.Column('device_key', sa.String(length=43), nullable=True),
    sa.Column('submitted_day', sa.Date(), nullable=True),
    sa.Column('vote_count', sa.Integer(), nullable=False),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_unit_id'], ['units.id'], name=op.f('fk_slogans_author_unit_id_units')),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['organisers.id'], name=op.f('fk_slogans_moderated_by_id_organisers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slogans')),
    sa.UniqueConstraint('text', name=op.f('uq_slogans_text'))
    )
    with op.batch_alter_table('slogans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slogans_device_key'), ['device_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_slogans_status'), ['status'], unique=False)

    op.create_table('slogan_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slogan_id', sa.Integer(), nullable=False),
    sa.Column('device_key', sa.String(length=43), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['slogan_id'], ['slogans.id'], name=op.f('fk_slogan_votes_slogan_id_slogans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slogan_votes')),
    sa.UniqueConstraint('slogan_id', 'device_key', name=op.f('uq_slogan_votes_slogan_id'))
    )


def downgrade():
    op.drop_table('slogan_votes')
    with op.batch_alter_table('slogans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slogans_status'))
        batch_op.drop_index(batch_op.f('ix_slogans_device_key'))

    op.drop_table('slogans')
    op.drop_table('link_scans')
    op.drop_table('campaign_themes')
