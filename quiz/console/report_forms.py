"""Forms of the hazard report queue in the console."""
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from quiz.forms import BaseForm, choices, strip_text
from quiz.models.report import HazardCategory, HazardGrade, ReportChannel
from quiz.report.forms import ReportForm
from quiz.report_workflow import TRANSFER_TARGETS

NOTE = [Optional(), Length(max=1000, message="不能超过 1000 个字")]


class TransitionForm(BaseForm):
    to = SelectField("办理为", validators=[DataRequired("请选择要办理的结果")])
    reason = StringField("理由（举报人可见）", filters=[strip_text], validators=[
        Optional(), Length(max=200, message="理由不能超过 200 个字")])
    public_note = TextAreaField("公开说明（举报人可见）", filters=[strip_text], validators=NOTE)
    private_note = TextAreaField("内部备注（举报人看不到）", filters=[strip_text], validators=NOTE)
    assigned_unit = SelectField("核查单位", validate_choice=False, validators=[Optional()])
    grade = SelectField("隐患等级", choices=choices([("", "不变")] + [(g.value, g.label) for g in HazardGrade]),
                        validators=[Optional()])
    due_on = DateField("整改期限", validators=[Optional()])
    transferred_to = SelectField("转办部门", choices=choices([("", "请选择")] + [(t, t) for t in TRANSFER_TARGETS]),
                                 validators=[Optional()])
    duplicate_of = IntegerField("与之重复的案件编号", validators=[
        Optional(), NumberRange(min=1, max=2**31 - 1, message="请填写案件编号")])


class ExtendForm(BaseForm):
    days = IntegerField("延期天数", validators=[DataRequired("请填写延期天数"),
                                              NumberRange(1, 30, "延期天数应为 1 到 30 天")])
    reason = StringField("延期理由（举报人可见）", filters=[strip_text], validators=[
        DataRequired("请填写延期理由"), Length(max=200)])


class PublishForm(BaseForm):
    public_description = TextAreaField("公开描述（请去除姓名、门牌号、电话等）", filters=[strip_text], validators=[
        DataRequired("请填写公开描述"), Length(max=500, message="不能超过 500 个字")])


class RewardForm(BaseForm):
    action = HiddenField(validators=[DataRequired()])
    fine_yuan = DecimalField("罚没款金额（元，重大隐患必填）", places=2, validators=[
        Optional(), NumberRange(min=0, max=100_000_000, message="金额不正确")])
    note = StringField("内部备注", filters=[strip_text], validators=[Optional(), Length(max=200)])


class IdentityForm(BaseForm):
    reason = StringField("查看理由（将被记录）", filters=[strip_text], validators=[
        DataRequired("请写明查看举报人信息的理由"), Length(min=4, max=200, message="理由请写 4 到 200 个字")])


class AssignForm(BaseForm):
    assigned_unit = SelectField("改派核查单位", validate_choice=False, validators=[DataRequired("请选择单位")])


class ActionForm(BaseForm):
    """A button that only needs CSRF (unpublish)."""


class QueueFilterForm(BaseForm):
    class Meta:
        csrf = False

    status = SelectField("状态", validators=[Optional()])
    category = SelectField("类别", choices=choices([("", "全部类别")] + [(c.value, c.label) for c in HazardCategory]),
                           validators=[Optional()])
    grade = SelectField("等级", choices=choices([("", "全部等级")] + [(g.value, g.label) for g in HazardGrade]),
                        validators=[Optional()])
    unit = SelectField("单位", validate_choice=False, validators=[Optional()])
    overdue = BooleanField("只看超期")


class StaffReportForm(ReportForm):
    """A report received by the 12350 hotline or on paper, entered on the resident's behalf."""

    channel = SelectField("来源", choices=choices((channel.value, channel.label) for channel in
                                                (ReportChannel.HOTLINE, ReportChannel.PAPER)))
    consent = BooleanField("举报人已同意仅为核实和奖励使用其联系方式")
