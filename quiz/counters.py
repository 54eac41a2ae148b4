"""Counters kept with one atomic UPDATE, so concurrent requests never lose an increment."""
from sqlalchemy.exc import IntegrityError

from quiz.extensions import db


def add_to_counter(model, keys: dict, deltas: dict[str, int]) -> None:
    """Add deltas to the row identified by keys, creating it if it does not exist yet.

    The caller commits. Creation races (two first requests at once) are settled by the
    row's unique constraint: the loser retries the UPDATE.
    """
    def increment():
        # A fresh statement each time: re-executing one the ORM has annotated defeats
        # SQLAlchemy's compilation cache (SAWarning "AnnotatedUpdate").
        where = [getattr(model, name) == value for name, value in keys.items()]
        return db.session.execute(db.update(model).where(*where).values(
            {getattr(model, name): getattr(model, name) + delta for name, delta in deltas.items()}
        ).execution_options(synchronize_session=False))

    if increment().rowcount == 1:
        return
    try:
        with db.session.begin_nested():
            db.session.add(model(**keys, **deltas))
    except IntegrityError:
        increment()
