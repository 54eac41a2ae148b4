"""A scripted client tries to raise a unit's score beyond what the campaign's rules allow."""
import re

from quiz.extensions import db
from quiz.models import Attempt, ParticipantStanding, UnitTally
from tests.conftest import csrf_token
from tests.test_play import answers_form, attempt_token, paper_of, start


def csrf_of_paper(client, token):
    page = client.get(f"/a/{token}").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def unit_points(app) -> tuple[int, int]:
    with app.app_context():
        tally = db.session.scalar(db.select(UnitTally))
        return (tally.attempts, tally.points_total) if tally else (0, 0)


def test_replayed_submissions_count_once(client, app, demo):
    token = attempt_token(start(client))
    data = {"csrf_token": csrf_of_paper(client, token), **answers_form(paper_of(app, token))}
    statuses = {client.post(f"/a/{token}/submit", data=data).status_code for _ in range(5)}
    assert statuses == {302}
    assert unit_points(app) == (1, 100)


def test_a_forged_answer_key_or_score_field_gains_nothing(client, app, demo):
    token = attempt_token(start(client))
    data = {"csrf_token": csrf_of_paper(client, token), **answers_form(paper_of(app, token), right=False),
            "score": "100", "answer": "A", "key": "T", "is_correct": "1", "points": "999"}
    client.post(f"/a/{token}/submit", data=data)
    assert unit_points(app) == (1, 0)


def test_a_finished_paper_posted_for_someone_elses_attempt_is_refused(client, app, demo):
    victim_token = attempt_token(start(client, name="王明"))
    attacker = app.test_client()
    own = attempt_token(start(attacker, name="李强"))
    right_answers = answers_form(paper_of(app, victim_token))
    response = attacker.post(f"/a/{victim_token}/submit",
                             data={"csrf_token": csrf_of_paper(attacker, own), **right_answers})
    assert response.status_code == 404
    with app.app_context():
        victim = db.session.scalar(db.select(Attempt).filter_by(token=victim_token))
        assert not victim.is_submitted
    assert unit_points(app) == (0, 0)


def test_one_phone_hammering_one_unit_is_held_to_the_rules(demo, limited_app):
    """Register, answer perfectly, say 「不是我」, register again … as fast as a script can."""
    client = limited_app.test_client()
    refused = 0
    for number in range(14):
        response = start(client, name=f"刷分{number}")
        if response.status_code == 429:
            refused += 1
            assert "太频繁" in response.get_data(as_text=True)
            continue
        token = attempt_token(response)
        client.post(f"/a/{token}/submit",
                    data={"csrf_token": csrf_of_paper(client, token), **answers_form(paper_of(limited_app, token))})
        client.post("/forget", data={"csrf_token": csrf_token(client, "/join/S01C01")})
    assert refused == 4  # 10 new people per phone per day
    with limited_app.app_context():
        campaign_max = db.session.scalar(db.select(Attempt.max_score).limit(1))
        people = db.session.scalar(db.select(db.func.count(ParticipantStanding.id)))
    attempts, points = unit_points(limited_app)
    assert people == 10 and attempts == 10 and points <= 10 * campaign_max
    # Another phone behind the same address is not held back by that phone's limit.
    neighbour = limited_app.test_client()
    assert start(neighbour, name="邻居").status_code == 302


def test_a_returning_person_is_not_held_by_the_registration_cap(demo, limited_app):
    client = limited_app.test_client()
    token = attempt_token(start(client, name="常来"))
    client.post(f"/a/{token}/submit", data={"csrf_token": csrf_of_paper(client, token)})
    for _ in range(12):  # the daily attempt limit answers, not the registration cap
        response = client.post("/start", data={"csrf_token": csrf_token(client, "/join/S01C01"), "continue": "1"})
        assert response.status_code == 429 and "答题机会已经用完" in response.get_data(as_text=True)
