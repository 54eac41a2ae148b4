"""Charts drawn on the server as SVG: no chart library, no script, prints crisply."""
from datetime import date, timedelta

from quiz.extensions import db
from quiz.models import Campaign, DailyTally


def daily_series(campaign: Campaign, last_day: date) -> list[tuple[date, int, int]]:
    """(day, attempts, new participants) per day: the campaign's days up to last_day, or,
    when every answer fell outside the campaign's dates (a test run, a late month), the
    days that have answers, so the chart never stretches over empty years."""
    tallies = {t.day: t for t in db.session.scalars(
        db.select(DailyTally).where(DailyTally.campaign_id == campaign.id))}
    if tallies and not any(campaign.starts_on <= day <= campaign.ends_on for day in tallies):
        first, last = min(tallies), max(tallies)
        first = min(first, last - timedelta(days=6))
    else:
        first, last = campaign.starts_on, max(campaign.starts_on, min(last_day, campaign.ends_on))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [(day, tallies[day].attempts if day in tallies else 0,
             tallies[day].new_participants if day in tallies else 0) for day in days]


def daily_chart_svg(series: list[tuple[date, int, int]], width: int = 640, height: int = 240,
                    highlight: date | None = None) -> str:
    """Bars for attempts per day, a line for new participants, the axis labelled in Chinese."""
    left, right, top, bottom = 44, 12, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1] + [max(a, p) for _d, a, p in series])
    scale = nice_step(peak / 4) * 4  # four grid steps of a round size
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
                     f'fill="#5b6675">{value:g}</text>')
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


def nice_step(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … at or above value."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10
