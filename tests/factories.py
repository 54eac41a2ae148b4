"""Builders for test data; each returns a committed row."""
import itertools
from datetime import date

from quiz.bank_loader import QuestionRecord, _add_version
from quiz.demo import campaign_from_preset
from quiz.extensions import db
from quiz.models import Participant, Question, QuestionType, Unit, UnitKind

_counter = itertools.count(1)


def make_unit(code: str | None = None, name: str | None = None, kind=UnitKind.COMMUNITY,
              parent: Unit | None = None, headcount: int = 100) -> Unit:
    number = next(_counter)
    unit = Unit(code=code or f"T{number:03d}", name=name or f"测试社区{number}", kind=kind,
                parent=parent, headcount=headcount)
    db.session.add(unit)
    db.session.commit()
    return unit


def make_question(qtype: QuestionType = QuestionType.SINGLE, answer=None, category="消防安全",
                  key: str | None = None, stem: str | None = None,
                  source: str | None = None) -> Question:
    number = next(_counter)
    if qtype is QuestionType.JUDGE:
        options = [{"key": "T", "text": "正确"}, {"key": "F", "text": "错误"}]
        answer = answer or ["T"]
    else:
        options = [{"key": letter, "text": f"选项{letter}{number}"} for letter in "ABCD"]
        answer = answer or (["B"] if qtype is QuestionType.SINGLE else ["A", "C"])
    record = QuestionRecord(
        key=key or f"TQ-{number:04d}", category=category, qtype=qtype, difficulty=1,
        stem=stem or f"测试题干{number}（　）", options=options, answer=sorted(answer),
        explanation=f"解析{number}：这是正确答案的理由。", source=source or f"《测试依据》第{number}条")
    question = Question(key=record.key, category=category, qtype=qtype)
    db.session.add(question)
    _add_version(question, record, number=1)
    db.session.commit()
    return question


def make_bank(singles: int = 8, multiples: int = 4, judges: int = 4,
              category: str = "消防安全") -> list[Question]:
    return ([make_question(QuestionType.SINGLE, category=category) for _ in range(singles)]
            + [make_question(QuestionType.MULTIPLE, category=category) for _ in range(multiples)]
            + [make_question(QuestionType.JUDGE, category=category) for _ in range(judges)])


def make_campaign(preset: str = "contest", is_active: bool = True, **overrides):
    fields = {"year": 2024, "title": "测试答题活动", "theme": "人人讲安全、个个会应急",
              "starts_on": date(2024, 6, 1), "ends_on": date(2024, 6, 30),
              "consultation_day": date(2024, 6, 16), "is_active": is_active}
    fields.update(overrides)
    campaign = campaign_from_preset(preset, **fields)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def make_participant(unit: Unit, name: str = "张三") -> Participant:
    participant = Participant(token=f"tok-{next(_counter)}", name=name, unit_id=unit.id)
    db.session.add(participant)
    db.session.commit()
    return participant


def make_organiser(username: str = "admin", password: str = "secret-pass-1",
                   unit: Unit | None = None, is_admin: bool = True, handles_reports: bool = False):
    from quiz.models import Organiser, OrganiserRole

    organiser = Organiser(username=username, display_name=f"{username}管理员", password_hash="",
                          role=OrganiserRole.ADMIN if is_admin else OrganiserRole.UNIT,
                          unit_id=unit.id if unit else None, handles_reports=handles_reports)
    organiser.set_password(password)
    db.session.add(organiser)
    db.session.commit()
    return organiser
