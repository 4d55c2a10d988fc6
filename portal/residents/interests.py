"""The curated interest list every deployment starts with (created after migrate if missing)."""

from __future__ import annotations

from typing import Any

INTERESTS = [
    ("childcare", "子育て", "Childcare"),
    ("education", "教育", "Education"),
    ("elderly_care", "高齢者福祉・介護", "Elderly care"),
    ("health", "健康・医療", "Health"),
    ("disaster_preparedness", "防災", "Disaster preparedness"),
    ("snow", "除雪・雪対策", "Snow clearing"),
    ("transport", "交通", "Transport"),
    ("events", "イベント", "Events"),
    ("culture", "文化・芸術", "Culture"),
    ("sports", "スポーツ", "Sports"),
    ("tourism", "観光", "Tourism"),
    ("agriculture", "農業", "Agriculture"),
    ("environment", "環境・ごみ", "Environment and waste"),
    ("employment", "しごと・雇用", "Jobs"),
]


def ensure_interest_tags(**kwargs: Any) -> None:
    from portal.models import InterestTag

    for position, (code, name_ja, name_en) in enumerate(INTERESTS):
        InterestTag.objects.get_or_create(
            code=code, defaults={"name_ja": name_ja, "name_en": name_en, "position": position}
        )
