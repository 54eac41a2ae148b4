"""The migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from quiz import create_app
from quiz.extensions import db, migrate


def test_one_migration_head(app):
    with app.app_context():
        config = migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()
