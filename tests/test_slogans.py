"""Slogans: official data, submissions, limits, moderation, one vote per person."""
from datetime import date, timedelta

import pytest

from quiz.extensions import db
from quiz.models import CampaignTheme, Slogan, SloganStatus, SloganVote, Unit
from quiz.slogan_rules import (
    SloganRefused,
    moderate,
    ranking,
    seed_official,
    slogan_of_the_day,
    submit_slogan,
    vote,
)
from tests.conftest import csrf_token, login
from tests.factories import make_organiser

TODAY = date(2024, 6, 16)


def test_official_slogans_and_themes_load_once(ctx):
    assert seed_official() == (24, 28)
    assert seed_official() == (0, 0)
    official = db.session.scalars(db.select(Slogan).where(Slogan.is_official)).all()
    assert len(official) == 28 and all(s.status is SloganStatus.APPROVED for s in official)
    assert official[0].text == "消除事故隐患 筑牢安全防线"
    theme_2024 = db.session.get(CampaignTheme, 2024)
    assert (theme_2024.ordinal, theme_2024.theme) == (23, "人人讲安全、个个会应急——畅通生命通道")
    assert db.session.get(CampaignTheme, 2020).ordinal == 19


def test_slogan_of_the_day_takes_turns_and_skips_the_unapproved(ctx):
    seed_official()
    pending = submit_slogan("待审核的标语不能上墙", None, None, "phone-1", TODAY)
    seen = {slogan_of_the_day(TODAY + timedelta(days=n)).id for n in range(60)}
    assert pending.id not in seen
    assert len(seen) == 27  # the 28 official ones, minus the one naming 2020's 19th month
    assert slogan_of_the_day(TODAY) == slogan_of_the_day(TODAY)


def test_three_submissions_a_day_per_phone(ctx):
    for number in range(3):
        submit_slogan(f"安全第一预防为主第{number}条", None, None, "phone-1", TODAY)
    with pytest.raises(SloganRefused, match="每人每天最多投稿 3 条") as refusal:
        submit_slogan("安全第一预防为主第四条", None, None, "phone-1", TODAY)
    assert refusal.value.status == 429
    submit_slogan("另一部手机也可以投稿", None, None, "phone-2", TODAY)
    submit_slogan("第二天又可以投稿了", None, None, "phone-1", TODAY + timedelta(days=1))


def test_the_same_slogan_twice_is_refused(ctx):
    submit_slogan("安全你我  他 平安靠大家呀", None, None, "phone-1", TODAY)
    with pytest.raises(SloganRefused, match="已经有人投过"):
        submit_slogan("安全你我 他 平安靠大家呀", None, None, "phone-2", TODAY)


def test_moderation_and_one_vote_per_phone(ctx):
    admin = make_organiser()
    slogan = submit_slogan("隐患险于明火 防范胜于救灾", "王小明", None, "phone-1", TODAY)
    with pytest.raises(SloganRefused):
        vote(slogan, "phone-2")  # not approved yet
    assert ranking() == []
    moderate(slogan, admin, approve=True)
    assert vote(slogan, "phone-2") is True
    assert vote(slogan, "phone-2") is False
    assert vote(slogan, "phone-3") is True
    db.session.refresh(slogan)
    assert slogan.vote_count == 2
    assert db.session.scalar(db.select(db.func.count(SloganVote.id))) == 2
    assert ranking() == [slogan]


def test_rejected_slogans_never_appear(ctx):
    admin = make_organiser()
    slogan = submit_slogan("这条标语写得不太合适", None, None, "phone-1", TODAY)
    moderate(slogan, admin, approve=False, reason="与主题无关")
    assert slogan.status is SloganStatus.REJECTED and slogan.reject_reason == "与主题无关"
    assert ranking() == []
    with pytest.raises(SloganRefused):
        vote(slogan, "phone-2")


def test_public_page_shows_only_approved_slogans(client, app, demo):
    token = csrf_token(client, "/slogans/")
    response = client.post("/slogans/new", data={"csrf_token": token, "text": "未审核<script>alert(1)</script>",
                                                 "author_name": "李四"})
    assert response.status_code == 302
    page = client.get("/slogans/").get_data(as_text=True)
    assert "投稿成功" in page
    assert "未审核" not in page and "<script>alert" not in page
    assert "消除事故隐患 筑牢安全防线" in page and "2024年 · 第23个" in page
    with app.app_context():
        slogan = db.session.scalar(db.select(Slogan).where(Slogan.is_official.is_(False)))
        moderate(slogan, make_organiser(), approve=True)
    page = client.get("/slogans/").get_data(as_text=True)
    assert "未审核&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped, never run
    assert "李*" in page and "李四" not in page


@pytest.mark.parametrize(("text", "message"), [
    ("", "请填写标语"),
    ("安全", "标语长度应为 6–32 个字"),
    ("安" * 33, "标语长度应为 6–32 个字"),
    ("安全\x00第一第一第一", "无法识别的字符"),
])
def test_bad_submissions_get_a_message_and_keep_nothing(client, app, demo, text, message):
    token = csrf_token(client, "/slogans/")
    response = client.post("/slogans/new", data={"csrf_token": token, "text": text})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Slogan.id)).where(
            Slogan.is_official.is_(False))) == 0


def test_voting_over_http_counts_once(client, app, demo):
    with app.app_context():
        slogan = submit_slogan("生命至上 平安回家", None, None, "phone-9", TODAY)
        moderate(slogan, make_organiser(), approve=True)
        slogan_id = slogan.id
    token = csrf_token(client, "/slogans/")
    for _ in range(2):
        assert client.post(f"/slogans/{slogan_id}/vote", data={"csrf_token": token}).status_code == 302
    page = client.get("/slogans/").get_data(as_text=True)
    assert "1 票" in page and "已投" in page
    with app.app_context():
        official_id = db.session.scalar(db.select(Slogan.id).where(Slogan.is_official))
    assert client.post(f"/slogans/{official_id}/vote", data={"csrf_token": token}).status_code == 404


def test_moderation_is_for_administrators_only(client, app, demo):
    with app.app_context():
        slogan = submit_slogan("等待区里审核的标语", None, None, "phone-1", TODAY)
        unit = db.session.scalar(db.select(Unit).filter_by(code="S01"))
        make_organiser("street", unit=unit, is_admin=False)
        make_organiser("admin")
        slogan_id = slogan.id
    assert client.get("/console/slogans").status_code == 302  # to the login page
    login(client, "street")
    assert client.get("/console/slogans").status_code == 403
    token = csrf_token(client, "/posters/")
    assert client.post(f"/console/slogans/{slogan_id}/approve",
                       data={"csrf_token": token}).status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    assert "等待区里审核的标语" in admin.get("/console/slogans").get_data(as_text=True)
    token = csrf_token(admin, "/console/slogans")
    assert admin.post(f"/console/slogans/{slogan_id}/approve",
                      data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Slogan, slogan_id).status is SloganStatus.APPROVED
