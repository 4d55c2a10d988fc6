"""The consent catalogue every deployment starts with, and the first version of each terms.

Run after every migrate (post_migrate): it creates what is missing and never overwrites what
the city has edited or published since.
"""

from __future__ import annotations

from typing import Any

from consent.catalogue import Category, PurposeCode, RecipientCode

CATEGORIES: list[dict[str, Any]] = [
    {
        "code": Category.AGE,
        "dpv_term": "pd:AgeRange",
        "name_ja": "年齢層",
        "name_en": "Age band",
        "description_ja": "生まれた年。利用目的には「30〜39歳」のような年齢層としてだけ使います。",
        "description_en": "Your birth year. Purposes see only an age band such as 30–39.",
    },
    {
        "code": Category.PLACES,
        "dpv_term": "pd:Location",
        "name_ja": "暮らしの場所",
        "name_en": "Places",
        "description_ja": "住まい・勤務先・通学先・実家などの地域（町名まで）。市外の地域も登録できます。",
        "description_en": "The areas (down to the neighbourhood) where you live, work, study or "
        "have family, in this city or a neighbouring one.",
    },
    {
        "code": Category.HOUSEHOLD,
        "dpv_term": "pd:FamilyStructure",
        "name_ja": "世帯（お子さまの学校と学年）",
        "name_en": "Household (children's school and grade)",
        "description_ja": "お子さまが通う学校と学年。お名前は登録しません。",
        "description_en": "The school and grade of each child. No names are recorded.",
    },
    {
        "code": Category.INTERESTS,
        "dpv_term": "pd:Interest",
        "name_ja": "関心のある分野",
        "name_en": "Interests",
        "description_ja": "子育て・防災・スポーツなど、一覧から選んだ関心分野。",
        "description_en": "Topics you pick from a list: childcare, disaster preparedness, sports…",
    },
    {
        "code": Category.LANGUAGE,
        "dpv_term": "pd:Language",
        "name_ja": "言語とアクセシビリティ",
        "name_en": "Language and accessibility",
        "description_ja": "希望する言語、大きな文字・やさしい日本語が必要かどうか。",
        "description_en": "Your preferred language, and whether you need large text or easy "
        "Japanese (やさしい日本語).",
    },
    {
        "code": Category.LOCATION,
        "dpv_term": "pd:GPSCoordinate",
        "name_ja": "自宅の正確な位置",
        "name_en": "Precise home location",
        "description_ja": "自宅の緯度・経度。最寄りの避難所の案内に使います。",
        "description_en": "The latitude and longitude of your home, to guide you to the nearest "
        "shelter.",
    },
    {
        "code": Category.INTERACTIONS,
        "dpv_term": "pd:BrowsingBehavior",
        "name_ja": "利用履歴",
        "name_en": "Interaction history",
        "description_ja": "お知らせを開いた・保存した・非表示にした記録。",
        "description_en": "Which notices you opened, saved or dismissed.",
    },
]

PURPOSES: list[dict[str, Any]] = [
    {
        "code": PurposeCode.PERSONALISED_HOME,
        "dpv_term": "dpv:ServicePersonalisation",
        "name_ja": "あなた向けのトップページ",
        "name_en": "Personalised home page",
        "description_ja": "市からのお知らせを、あなたに関係の深い順に並べて表示します。",
        "description_en": "City notices are ranked on your home page by how much they concern you.",
    },
    {
        "code": PurposeCode.DISASTER_WARNINGS,
        "dpv_term": "dpv:PublicBenefit",
        "name_ja": "あなたの地域の災害情報",
        "name_en": "Disaster warnings for my areas",
        "description_ja": "あなたの地域に出た警報・避難情報と、最寄りの避難所をお知らせします。",
        "description_en": "Warnings and evacuation information for your areas, and your nearest "
        "shelter.",
    },
    {
        "code": PurposeCode.SCHOOL_LETTERS,
        "dpv_term": "dpv:CommunicationManagement",
        "name_ja": "お子さまの学校からのお便り",
        "name_en": "School letters for my children",
        "description_ja": "お子さまの学校・学年あてのお便りをお届けします。",
        "description_en": "Letters from your children's schools, for their grades.",
    },
    {
        "code": PurposeCode.PLANNING_STATISTICS,
        "dpv_term": "dpv:ResearchAndDevelopment",
        "name_ja": "まちづくりのための匿名統計",
        "name_en": "Anonymous statistics for city planning",
        "description_ja": "個人が特定できない集計（少人数の集計は公表しません）をまちづくりに使います。",
        "description_en": "Counts that identify no one (small counts are suppressed) inform city "
        "planning.",
    },
]

RECIPIENTS: list[dict[str, Any]] = [
    {
        "code": RecipientCode.CITY,
        "role": "controller",
        "dpv_term": "dpv:DataController",
        "name_ja": "市（このポータルを運営する自治体）",
        "name_en": "The city (the municipality running this portal)",
    },
    {
        "code": RecipientCode.OPERATOR,
        "role": "processor",
        "dpv_term": "dpv:DataProcessor",
        "name_ja": "ポータル運営事業者（市の委託先）",
        "name_en": "The portal operator (processing on the city's behalf)",
    },
    {
        "code": RecipientCode.BOARD_OF_EDUCATION,
        "role": "third_party",
        "dpv_term": "dpv:ThirdParty",
        "name_ja": "教育委員会",
        "name_en": "The board of education",
    },
]

WITHDRAWAL_JA = (
    "「わたしのデータ」ページからいつでも1クリックで取り消せます。市役所の窓口でも受け付けます。"
    "取り消すと、ほかの目的で使っていないデータはすぐに削除されます。"
)
WITHDRAWAL_EN = (
    "At any time, with one click on the My data page, or at the city office counter. "
    "Data that no other purpose uses is deleted at once."
)

FIRST_TERMS: list[dict[str, Any]] = [
    {
        "purpose_code": PurposeCode.PERSONALISED_HOME,
        "category_codes": [
            Category.AGE,
            Category.PLACES,
            Category.HOUSEHOLD,
            Category.INTERESTS,
            Category.LANGUAGE,
            Category.INTERACTIONS,
        ],
        "recipient_codes": [RecipientCode.CITY, RecipientCode.OPERATOR],
        "retention_days": 30,
        "valid_days": None,
        "text_ja": "選んだ情報を、トップページのお知らせをあなた向けに並べるためだけに使います。"
        "市と、市の委託を受けたポータル運営事業者が扱います。同意をやめた情報は30日以内にすべての"
        "複製から削除します。",
        "text_en": "The information you choose is used only to rank the notices on your home page. "
        "The city and the portal operator working on its behalf handle it. Information you stop "
        "sharing is deleted from every copy within 30 days.",
    },
    {
        "purpose_code": PurposeCode.DISASTER_WARNINGS,
        "category_codes": [Category.PLACES, Category.LOCATION, Category.LANGUAGE],
        "recipient_codes": [RecipientCode.CITY],
        "retention_days": 30,
        "valid_days": None,
        "text_ja": "選んだ情報を、あなたの地域の災害情報と最寄りの避難所をお知らせするためだけに"
        "使います。扱うのは市だけです。",
        "text_en": "The information you choose is used only to send you disaster information for "
        "your areas and guide you to the nearest shelter. Only the city handles it.",
    },
    {
        "purpose_code": PurposeCode.SCHOOL_LETTERS,
        "category_codes": [Category.HOUSEHOLD],
        "recipient_codes": [RecipientCode.CITY, RecipientCode.BOARD_OF_EDUCATION],
        "retention_days": 30,
        "valid_days": 365,
        "text_ja": "お子さまの学校と学年を、その学校・学年あてのお便りをお届けするためだけに使います。"
        "市と教育委員会が扱います。学年が変わるため、同意は1年ごとに確認します。",
        "text_en": "Your children's schools and grades are used only to deliver letters meant for "
        "them. The city and the board of education handle them. Because grades change, we ask "
        "again every year.",
    },
    {
        "purpose_code": PurposeCode.PLANNING_STATISTICS,
        "category_codes": [Category.AGE, Category.PLACES, Category.INTERESTS],
        "recipient_codes": [RecipientCode.CITY],
        "retention_days": 365,
        "valid_days": 730,
        "text_ja": "選んだ情報を、個人が特定できない統計（10人未満の集計は公表しません）にして"
        "まちづくりに使います。扱うのは市だけです。同意は2年ごとに確認します。",
        "text_en": "The information you choose is turned into statistics that identify no one "
        "(counts under 10 are never published) for city planning. Only the city handles it. We ask "
        "again every two years.",
    },
]


def ensure_catalogue(**kwargs: Any) -> None:
    """Create missing categories, purposes, recipients and first terms; change nothing else."""
    from consent.models import ConsentTerms, DataCategory, Purpose, Recipient
    from consent.services import terms_publish

    for position, data in enumerate(CATEGORIES):
        DataCategory.objects.get_or_create(
            code=data["code"], defaults={**data, "position": position}
        )
    for position, data in enumerate(PURPOSES):
        Purpose.objects.get_or_create(code=data["code"], defaults={**data, "position": position})
    for data in RECIPIENTS:
        Recipient.objects.get_or_create(code=data["code"], defaults=data)
    for terms in FIRST_TERMS:
        if not ConsentTerms.objects.filter(purpose__code=terms["purpose_code"]).exists():
            terms_publish(
                **terms, withdrawal_method_ja=WITHDRAWAL_JA, withdrawal_method_en=WITHDRAWAL_EN
            )
