"""Demo notices: a few dozen across categories, areas, schools and urgencies, written and
published through the notices services (so each has its history), as Aizuwakamatsu's staff and
schools might write them. Idempotent: each demo notice is known by its ``demo:`` identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.models import School, User
from portal.notices.models import Department, Notice, SchoolStaffMembership, Source
from portal.notices.services import (
    NoticeDraft,
    Targeting,
    notice_approve,
    notice_attach,
    notice_create,
    notice_emergency_publish,
    notice_submit,
    notices_expire_due,
)

DEPARTMENTS = [
    ("crisis-management", "危機管理課", "Crisis Management Division"),
    ("road-maintenance", "道路維持課", "Road Maintenance Division"),
    ("health-promotion", "健康増進課", "Health Promotion Division"),
    ("child-family", "こども家庭課", "Children and Families Division"),
    ("tourism", "観光課", "Tourism Division"),
    ("waste", "廃棄物対策課", "Waste Management Division"),
    ("transport-policy", "地域公共交通課", "Public Transport Division"),
    ("public-relations", "広聴広報課", "Public Relations Division"),
]
DEMO_SCHOOL = "072028-es-kakujo"
PUBLISHER = "publisher@city.example.jp"
APPROVER = "approver@city.example.jp"
DISASTER_OFFICER = "disaster@city.example.jp"
TEACHER = "teacher@school.example.jp"


@dataclass(frozen=True)
class DemoNotice:
    key: str
    category: str
    department: str
    title_ja: str
    body_ja: str
    title_en: str = ""
    body_en: str = ""
    title_easy: str = ""
    body_easy: str = ""
    urgency: str = "information"
    # "published" (that many days ago), "scheduled" (in that many days), "draft", "in_review",
    # "expired"
    state: str = "published"
    days: int = 1
    areas: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


NOTICES: tuple[DemoNotice, ...] = (
    DemoNotice(
        "snow-plan",
        "snow",
        "road-maintenance",
        "今冬の除雪計画をお知らせします",
        "市では、新雪が **10cm** を超えたときに除雪車を出動します。\n\n"
        "- 幹線道路：午前7時までに完了を目標\n- 生活道路：幹線道路の後に順次\n\n"
        "玄関前に残る雪の処理にご協力ください。",
        "This winter's snow clearing plan",
        "Snow ploughs go out when fresh snow exceeds **10 cm**. Main roads are cleared by 7 a.m.",
        "ゆきかきの けいかく",
        "ゆきが 10センチより おおく ふったら、ゆきかきの くるまが みちを きれいに します。",
        days=12,
        interests=("snow",),
    ),
    DemoNotice(
        "snow-kakujo",
        "snow",
        "road-maintenance",
        "鶴城地区の生活道路の除雪について",
        "12月5日の未明から、鶴城地区の生活道路を除雪します。路上駐車はお控えください。",
        "Snow clearing of residential streets in Kakujo",
        "From the early hours of 5 December, residential streets in Kakujo are cleared. "
        "Please do not park on the street.",
        days=0,
        areas=("072028-kakujo",),
    ),
    DemoNotice(
        "snow-ikki",
        "snow",
        "road-maintenance",
        "一箕地区の除雪作業が完了しました",
        "一箕地区の幹線道路と主な生活道路の除雪が完了しました。",
        days=1,
        areas=("072028-ikki",),
    ),
    DemoNotice(
        "heavy-snow-warning",
        "disaster",
        "crisis-management",
        "大雪警報が発表されました（会津若松市）",
        "会津若松市に **大雪警報** が発表されています。不要不急の外出は控え、"
        "屋根からの落雪に注意してください。",
        "Heavy snow warning for Aizuwakamatsu",
        "A **heavy snow warning** is in force. Avoid unnecessary trips and beware of snow "
        "sliding off roofs.",
        "たくさん ゆきが ふります",
        "そとに でるのは やめましょう。やねから ゆきが おちてくるので きを つけましょう。",
        urgency="warning",
        days=0,
        extra={"emergency": True},
    ),
    DemoNotice(
        "evacuation-drill",
        "disaster",
        "crisis-management",
        "総合防災訓練を実施します",
        "10月に市内全域で総合防災訓練を行います。指定避難所の場所を確認しておきましょう。",
        "City-wide disaster drill",
        "A city-wide disaster drill takes place in October. Check where your designated "
        "shelter is.",
        days=20,
        interests=("disaster_preparedness",),
    ),
    DemoNotice(
        "river-advisory",
        "disaster",
        "crisis-management",
        "湯川の水位に注意してください",
        "上流の雨により湯川の水位が上がっています。河川敷に近づかないでください。",
        urgency="advisory",
        days=3,
        areas=("072028-johoku", "072028-gyonin"),
    ),
    DemoNotice(
        "flu-vaccine",
        "health",
        "health-promotion",
        "高齢者インフルエンザ予防接種の助成",
        "65歳以上の方のインフルエンザ予防接種費用を助成します。医療機関でお申し込みください。",
        "Flu vaccination subsidy for older residents",
        "The city pays part of the flu vaccination for residents aged 65 and over.",
        days=15,
        age_bands=("60-69", "70-79", "80-89", "90-99"),
    ),
    DemoNotice(
        "checkup",
        "health",
        "health-promotion",
        "特定健康診査の受診期限は12月末です",
        "40歳から74歳の国民健康保険加入者の特定健診は、12月末までに受診してください。",
        days=30,
        age_bands=("40-49", "50-59", "60-69", "70-79"),
    ),
    DemoNotice(
        "childcare-salon",
        "health",
        "child-family",
        "子育てサロンを開きます（鶴城コミュニティセンター）",
        "0歳から3歳のお子さんと保護者の方が自由に遊べるサロンです。予約は不要です。",
        "Parent and toddler salon at Kakujo Community Centre",
        "A free play space for children aged 0 to 3 and their parents. No booking needed.",
        days=4,
        areas=("072028-kakujo",),
        interests=("childcare",),
    ),
    DemoNotice(
        "nursery-applications",
        "health",
        "child-family",
        "来年度の保育所入所申込みの受付",
        "来年4月からの保育所入所の申込みを受け付けています。締切は1月15日です。",
        days=9,
        interests=("childcare",),
    ),
    DemoNotice(
        "tsuruga-castle-event",
        "events",
        "tourism",
        "鶴ヶ城 冬まつりのご案内",
        "鶴ヶ城本丸でろうそくの灯りによる冬まつりを開きます。",
        "Tsuruga Castle winter festival",
        "A candle-lit winter festival in the main keep grounds of Tsuruga Castle.",
        days=2,
        interests=("events", "tourism"),
    ),
    DemoNotice(
        "festival-traffic",
        "transport",
        "transport-policy",
        "冬まつり当日の交通規制",
        "冬まつり当日は鶴ヶ城周辺で交通規制を行います。公共交通機関をご利用ください。",
        days=2,
        areas=("072028-kakujo", "072028-nisshin"),
    ),
    DemoNotice(
        "bus-timetable",
        "transport",
        "transport-policy",
        "まちなか周遊バスの冬ダイヤ",
        "12月から3月まで、まちなか周遊バスは冬ダイヤで運行します。",
        "Winter timetable of the town loop buses",
        "From December to March the town loop buses run on their winter timetable.",
        days=6,
        interests=("transport",),
    ),
    DemoNotice(
        "train-suspension",
        "transport",
        "transport-policy",
        "只見線の運転見合わせ（大雪のため）",
        "大雪のため只見線の一部区間で運転を見合わせています。",
        urgency="advisory",
        days=0,
    ),
    DemoNotice(
        "year-end-garbage",
        "garbage",
        "waste",
        "年末年始のごみ収集日",
        "12月31日から1月3日まではごみの収集を休みます。1月4日から通常どおり収集します。",
        "Year-end garbage collection",
        "No collection from 31 December to 3 January; normal collection resumes on 4 January.",
        "おしょうがつの ごみ",
        "12がつ31にちから 1がつ3かまで ごみは あつめません。",
        days=5,
    ),
    DemoNotice(
        "snow-garbage",
        "garbage",
        "waste",
        "大雪の日のごみ出しについて",
        "除雪の妨げにならないよう、ごみ集積所の周りの雪かきにご協力ください。",
        days=8,
        interests=("environment", "snow"),
    ),
    DemoNotice(
        "city-newsletter",
        "city_news",
        "public-relations",
        "市政だより12月号を発行しました",
        "市政だより12月号では、冬の暮らしの情報と市の予算についてお知らせしています。",
        "The December city newsletter is out",
        "This month: winter living and the city's budget.",
        days=3,
    ),
    DemoNotice(
        "tax-deadline",
        "city_news",
        "public-relations",
        "固定資産税（第4期）の納期限",
        "固定資産税第4期の納期限は12月25日です。口座振替もご利用いただけます。",
        days=10,
    ),
    DemoNotice(
        "library-hours",
        "city_news",
        "public-relations",
        "図書館の年末年始の開館時間",
        "会津図書館は12月29日から1月3日まで休館します。",
        "Library opening hours over New Year",
        "The Aizu Library is closed from 29 December to 3 January.",
        days=7,
        interests=("culture",),
    ),
    DemoNotice(
        "kitakata-road",
        "snow",
        "road-maintenance",
        "喜多方方面 国道121号の除雪情報",
        "国道121号の喜多方方面は除雪済みです。路面凍結にご注意ください。",
        days=1,
        areas=("072087-kitakata",),
    ),
    DemoNotice(
        "new-year-event",
        "events",
        "tourism",
        "新春 会津絵ろうそくまつり（予告）",
        "2月に会津絵ろうそくまつりを開きます。詳しくは後日お知らせします。",
        state="scheduled",
        days=3,
        interests=("events",),
    ),
    DemoNotice(
        "road-closure-plan",
        "transport",
        "road-maintenance",
        "市道の通行止め（水道工事）",
        "水道管の工事のため、城西地区の市道を通行止めにします。",
        state="in_review",
        areas=("072028-josei",),
    ),
    DemoNotice(
        "sports-day",
        "events",
        "public-relations",
        "市民スポーツ大会の参加者募集（下書き）",
        "市民スポーツ大会の参加者を募集します。",
        state="draft",
        interests=("sports",),
    ),
    DemoNotice(
        "autumn-festival",
        "events",
        "tourism",
        "会津まつりは終了しました",
        "たくさんのご来場ありがとうございました。",
        state="expired",
        days=40,
    ),
)

# A published notice and the update that superseded it.
SUPERSEDED = DemoNotice(
    "waterworks-v1",
    "city_news",
    "public-relations",
    "断水のお知らせ（12月10日）",
    "12月10日9時から15時まで、一箕地区の一部で断水します。",
    days=6,
    areas=("072028-ikki",),
)
SUPERSEDING = DemoNotice(
    "waterworks-v2",
    "city_news",
    "public-relations",
    "断水のお知らせ（日程変更：12月17日）",
    "工事日程を変更しました。断水は **12月17日** 9時から15時までです。",
    days=2,
    areas=("072028-ikki",),
)
LETTER = DemoNotice(
    "kakujo-letter",
    "school",
    "",
    "鶴城小学校だより：冬休みのくらし",
    "冬休みの過ごし方と、始業式の持ち物をお知らせします。添付のおたよりをご覧ください。"
    "お読みになったら「読みました」を押してください。",
    "Kakujo Elementary newsletter: winter holidays",
    "How to spend the winter holidays, and what to bring on the first day back.",
    days=1,
)


def ensure_demo_notices() -> int:
    """Create the demo notices that are missing; return how many were created."""
    ensure_demo_departments()
    created = 0
    for spec in NOTICES:
        created += _ensure(spec)
    if not _exists(SUPERSEDING):
        first = _find(SUPERSEDED) or _publish(SUPERSEDED, supersedes=None)
        _publish(SUPERSEDING, supersedes=first)
        created += 2
    if not _exists(LETTER):
        _letter()
        created += 1
    return created


def ensure_demo_departments() -> None:
    publisher = User.objects.get(email=PUBLISHER)
    for code, name_ja, name_en in DEPARTMENTS:
        department, _ = Department.objects.get_or_create(
            code=code, defaults={"name_ja": name_ja, "name_en": name_en}
        )
        department.members.add(publisher)
    teacher = User.objects.get(email=TEACHER)
    school = School.objects.get(code=DEMO_SCHOOL)
    SchoolStaffMembership.objects.get_or_create(user=teacher, school=school)


def _ensure(spec: DemoNotice) -> int:
    if _exists(spec):
        return 0
    if spec.state == "published":
        _publish(spec, supersedes=None)
    elif spec.state == "scheduled":
        notice = _write(spec, publish_at=timezone.now() + timedelta(days=spec.days))
        notice_submit(author=_user(PUBLISHER), notice_id=notice.pk)
        notice_approve(approver=_user(APPROVER), notice_id=notice.pk)
    elif spec.state == "in_review":
        notice = _write(spec)
        notice_submit(author=_user(PUBLISHER), notice_id=notice.pk)
    elif spec.state == "draft":
        _write(spec)
    elif spec.state == "expired":
        notice = _publish(spec, supersedes=None, expires_at=timezone.now() + timedelta(hours=1))
        ended = timezone.now() - timedelta(days=spec.days - 10)
        Notice.objects.filter(pk=notice.pk).update(expires_at=ended)
        notices_expire_due(now=ended)
    return 1


def _publish(spec: DemoNotice, *, supersedes: Notice | None, expires_at: Any = None) -> Notice:
    if spec.extra.get("emergency"):
        officer = _user(DISASTER_OFFICER)
        notice = _write(spec, author=officer, department="")
        notice_emergency_publish(officer=officer, notice_id=notice.pk)
    else:
        notice = _write(spec, supersedes=supersedes, expires_at=expires_at)
        notice_submit(author=_user(PUBLISHER), notice_id=notice.pk)
        notice_approve(approver=_user(APPROVER), notice_id=notice.pk)
    # As if published some days ago, so that the list has a history.
    Notice.objects.filter(pk=notice.pk).update(
        published_at=timezone.now() - timedelta(days=spec.days, hours=len(spec.key))
    )
    return notice


def _letter() -> None:
    teacher = _user(TEACHER)
    letter = _write(
        LETTER,
        author=teacher,
        department="",
        school=DEMO_SCHOOL,
        is_public=False,
        requires_acknowledgement=True,
        audiences=((DEMO_SCHOOL, None),),
    )
    pdf = SimpleUploadedFile("kakujo-winter-letter.pdf", demo_pdf(), content_type="application/pdf")
    notice_attach(editor=teacher, notice_id=letter.pk, upload=pdf)
    notice_approve(approver=teacher, notice_id=letter.pk)


def _write(
    spec: DemoNotice,
    *,
    author: User | None = None,
    department: str | None = None,
    school: str = "",
    is_public: bool = True,
    requires_acknowledgement: bool = False,
    audiences: tuple[tuple[str, int | None], ...] = (),
    publish_at: Any = None,
    expires_at: Any = None,
    supersedes: Notice | None = None,
) -> Notice:
    draft = NoticeDraft(
        category=spec.category,
        urgency=spec.urgency,
        title_ja=spec.title_ja,
        body_ja=spec.body_ja,
        title_en=spec.title_en,
        body_en=spec.body_en,
        title_easy=spec.title_easy,
        body_easy=spec.body_easy,
        publish_at=publish_at,
        expires_at=expires_at,
        department_code=spec.department if department is None else department,
        school_code=school,
        is_public=is_public,
        requires_acknowledgement=requires_acknowledgement,
        supersedes_id=supersedes.pk if supersedes else None,
        targeting=Targeting(
            area_codes=spec.areas,
            age_bands=spec.age_bands,
            interest_codes=spec.interests,
            school_audiences=audiences,
        ),
    )
    notice = notice_create(author=author or _user(PUBLISHER), draft=draft)
    Notice.objects.filter(pk=notice.pk).update(external_id=f"demo:{spec.key}")
    return notice


def _exists(spec: DemoNotice) -> bool:
    return _find(spec) is not None


def _find(spec: DemoNotice) -> Notice | None:
    return Notice.objects.filter(source=Source.STAFF, external_id=f"demo:{spec.key}").first()


def _user(email: str) -> User:
    return User.objects.get(email=email)


def demo_pdf() -> bytes:
    """A one-page PDF letter (ASCII text in a standard font: no font file needed)."""
    text = "Kakujo Elementary School - Winter holidays letter (Machi+ demo)"
    stream = f"BT /F1 14 Tf 56 780 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
