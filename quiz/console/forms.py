"""Console forms: units, organisers, campaigns, imports."""
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.form import Form

from quiz.forms import BaseForm, choices, strip_text
from quiz.models import UNIT_KIND_LABELS, ScoringMode


UNIT_CODE = Regexp(r"^[A-Za-z0-9-]{1,32}$", message="编码只能用字母、数字和连字符，最多 32 位")
PHONE_TEXT = Regexp(r"^[0-9+\-() ]{0,30}$", message="请填写电话号码")


def optional_text(label: str, max_length: int, *extra):
    return StringField(label, filters=[strip_text],
                       validators=[Optional(), Length(max=max_length, message=f"{label}不能超过 {max_length} 个字"), *extra])


class UnitForm(BaseForm):
    name = StringField("单位名称", filters=[strip_text],
                       validators=[DataRequired("请填写单位名称"), Length(max=100)])
    code = StringField("链接编码（留空自动生成）", filters=[strip_text], validators=[Optional(), UNIT_CODE])
    kind = SelectField("类别", choices=choices((kind.value, label) for kind, label in UNIT_KIND_LABELS.items()))
    parent = SelectField("上级单位", validate_choice=False)
    headcount = IntegerField("人数（只填本单位直属人数，下级自动汇总）", default=0,
                             validators=[NumberRange(min=0, max=10_000_000, message="人数应为 0 或正整数")])
    is_active = BooleanField("启用（停用后链接和海报失效，数据保留）", default=True)
    liaison_name = optional_text("联络员姓名", 20)
    liaison_gender = SelectField("性别", choices=choices([("", "—"), ("男", "男"), ("女", "女")]),
                                 validators=[Optional()])
    liaison_title = optional_text("职务", 40)
    liaison_office_phone = optional_text("办公电话", 30, PHONE_TEXT)
    liaison_mobile = optional_text("手机", 20, Regexp(r"^1\d{10}$", message="请填写 11 位手机号"))
    liaison_fax = optional_text("传真", 30, PHONE_TEXT)
    liaison_qq = optional_text("QQ", 20, Regexp(r"^\d{5,12}$", message="QQ 号应为 5–12 位数字"))
    liaison_wechat = optional_text("微信号", 40)
    liaison_email = optional_text("电子邮箱", 120, Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="请填写正确的电子邮箱"))
    liaison_address = optional_text("通信地址", 200)

    LIAISON_FIELDS = ("liaison_name", "liaison_gender", "liaison_title", "liaison_office_phone",
                      "liaison_mobile", "liaison_fax", "liaison_qq", "liaison_wechat",
                      "liaison_email", "liaison_address")


class OrganiserForm(BaseForm):
    username = StringField("用户名", filters=[strip_text], validators=[
        DataRequired("请填写用户名"), Regexp(r"^[A-Za-z0-9_.-]{3,64}$", message="用户名为 3–64 位字母、数字或 _ . -")])
    display_name = StringField("姓名", filters=[strip_text],
                               validators=[DataRequired("请填写姓名"), Length(max=64)])
    role = SelectField("角色", choices=choices([("unit", "单位组织者（本单位及下级）"), ("admin", "区级管理员（全部）")]))
    unit = SelectField("所属单位", validate_choice=False)
    handles_reports = BooleanField("负责办理隐患举报（可在记录理由后查看举报人信息，仅限区级管理员）")
    password = PasswordField("初始密码（至少 10 位）", validators=[
        DataRequired("请设置密码"), Length(min=10, max=128, message="密码至少 10 位")])

    def validate_unit(self, field):
        if self.role.data == "unit" and not field.data:
            raise ValidationError("单位组织者必须选择所属单位")


class PasswordResetForm(BaseForm):
    password = PasswordField("新密码（至少 10 位）", validators=[
        DataRequired("请设置密码"), Length(min=10, max=128, message="密码至少 10 位")])
    confirm = PasswordField("再输一次", validators=[EqualTo("password", message="两次输入的密码不一致")])


class SectionForm(Form):
    """One group of a paper: how many questions of which type (and category), worth how much."""

    class Meta:
        locales = ("zh",)

    # Checked with the whole paper (papers.validate_sections), so an unused row is no error.
    type = SelectField("题型", validate_choice=False, default="any", choices=choices([("any", "不限题型"), ("single", "单选题"),
                                              ("multiple", "多选题"), ("judge", "判断题")]))
    category = SelectField("分类", validate_choice=False)
    count = IntegerField("题数", validators=[Optional(), NumberRange(min=0, max=100, message="题数 0–100")])
    points = IntegerField("每题分值", validators=[Optional(), NumberRange(min=1, max=100, message="分值 1–100")])


class CampaignForm(BaseForm):
    year = IntegerField("年份", validators=[DataRequired("请填写年份"), NumberRange(min=2000, max=2100)])
    title = StringField("活动名称", filters=[strip_text], validators=[DataRequired("请填写活动名称"), Length(max=100)])
    theme = StringField("主题", filters=[strip_text], validators=[DataRequired("请填写主题"), Length(max=100)])
    starts_on = DateField("开始日期", validators=[DataRequired("请填写开始日期")])
    ends_on = DateField("结束日期", validators=[DataRequired("请填写结束日期")])
    consultation_day = DateField("安全宣传咨询日", validators=[DataRequired("请填写咨询日")])
    sections = FieldList(FormField(SectionForm), min_entries=4, max_entries=8)
    time_limit_seconds = IntegerField("答题时限（秒）", validators=[
        DataRequired("请填写时限"), NumberRange(min=30, max=7200, message="时限应为 30–7200 秒")])
    attempts_per_day = IntegerField("每人每天次数", validators=[
        DataRequired("请填写次数"), NumberRange(min=1, max=20, message="每天 1–20 次")])
    pass_mark = IntegerField("合格分", validators=[NumberRange(min=0, max=10000, message="合格分不能为负")])
    scoring_mode = SelectField("单位成绩计算", choices=choices((mode.value, mode.label) for mode in ScoringMode))
    partial_credit = BooleanField("多选题少选得一半分（错选不得分）")
    categories = SelectMultipleField("出题范围（不选则全部分类）", validate_choice=False)

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("结束日期不能早于开始日期")

    def validate_consultation_day(self, field):
        if self.starts_on.data and self.ends_on.data and field.data and \
                not self.starts_on.data <= field.data <= self.ends_on.data:
            raise ValidationError("咨询日应在活动期间内")

    def paper_sections(self) -> list[dict]:
        return [{"type": entry.form.type.data, "category": entry.form.category.data or None,
                 "count": entry.form.count.data, "points": entry.form.points.data}
                for entry in self.sections if entry.form.count.data]


class ImportForm(BaseForm):
    file = FileField("Excel 或 CSV 文件", validators=[
        FileRequired("请选择文件"),
        FileAllowed(["xlsx", "csv"], "只支持 .xlsx 或 .csv 文件"),
        FileSize(5 * 1024 * 1024, message="文件不能超过 5 MB")])
