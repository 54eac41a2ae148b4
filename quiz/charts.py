"""Charts drawn on the server as SVG: no chart library, no script, prints crisply."""
from datetime import date, timedelta

from quiz.extensions import db
from quiz.models import Campaign, DailyTally


def daily_series(campaign: Campaign, last_day: date) -> list[tuple[date, int, int]]:
    """(day, attempts, new participants) for every day from the campaign's start to last_day."""
    tallies = {t.day: t for t in db.session.scalars(
        db.select(DailyTally).where(DailyTally.campaign_id == campaign.id))}
    first = min([campaign.starts_on, *tallies]) if tallies else campaign.starts_on
    last = max([min(last_day, campaign.ends_on), *tallies]) if tallies else min(last_day, campaign.ends_on)
    if last < first:
        last = first
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [(day, tallies[day].attempts if day in tallies else 0,
             tallies[day].new_participants if day in tallies else 0) for day in days]


def daily_chart_svg(series: list[tuple[date, int, int]], width: int = 640, height: int = 240,
                    highlight: date | None = None) -> str:
    """Bars for attempts per day, a line for new participants, the axis labelled in Chinese."""
    left, right, top, bottom = 44, 12, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1] + [max(a, p) for _d, a, p in series])
    scale = nice_ceiling(peak)
    slot = plot_w / max(1, len(series))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="每日答题人次与新增参与人数" class="chart">',
             '<title>每日答题人次与新增参与人数</title>']
    for step in range(5):
        value = scale * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="#dde3ea" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#5b6675">{int(value)}</text>')
    points = []
    label_every = max(1, len(series) // 10)
    for index, (day, attempts, newcomers) in enumerate(series):
        x = left + slot * index
        bar_h = plot_h * attempts / scale
        colour = "#f5a300" if day == highlight else "#0b4f9c"
        parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_h - bar_h:.1f}" '
                     f'width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="{colour}">'
                     f'<title>{day.month}月{day.day}日：{attempts} 人次，新增 {newcomers} 人</title></rect>')
        points.append(f"{x + slot / 2:.1f},{top + plot_h - plot_h * newcomers / scale:.1f}")
        if index % label_every == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                         f'font-size="11" fill="#5b6675">{day.month}/{day.day}</text>')
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1a7f37" '
                     f'stroke-width="2"/>')
    parts.append(f'<text x="{left}" y="14" font-size="12" fill="#0b4f9c">■ 答题人次</text>'
                 f'<text x="{left + 90}" y="14" font-size="12" fill="#1a7f37">— 新增参与人数</text>')
    parts.append("</svg>")
    return "".join(parts)


def nice_ceiling(value: int) -> int:
    """The next round number at or above value (1, 2, 4, 5, 10 × 10ⁿ), for a readable axis."""
    magnitude = 10 ** (len(str(max(1, value))) - 1)
    return next(step * magnitude for step in (1, 2, 4, 5, 10) if step * magnitude >= value)
