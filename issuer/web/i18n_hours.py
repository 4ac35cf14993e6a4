"""The learning-hours page's words in English and Korean (merged into ``issuer.web.i18n``)."""

from __future__ import annotations

HOURS: dict[str, tuple[str, str]] = {
    "h_title": ("Learning hours", "학습시간"),
    "h_no_org": (
        "This issuer runs no organisation, so there is no roster to report on.",
        "이 기관이 운영하는 조직이 없어 보고할 명단이 없습니다.",
    ),
    "h_help": (
        "Hours from every trusted issuer, each counted once, against the organisation's rules.",
        "신뢰하는 모든 발급 기관의 학습시간을 한 번씩만 세어 조직의 규칙과 비교합니다.",
    ),
    "h_year": ("Year", "연도"),
    "h_unit": ("Unit", "부서"),
    "h_grade": ("Grade", "직급"),
    "h_status": ("Status", "상태"),
    "h_status_met": ("met", "충족"),
    "h_status_unmet": ("not met", "미충족"),
    "h_status_exempt": ("no requirement", "의무 없음"),
    "h_show": ("Show", "보기"),
    "h_csv": ("Download CSV", "CSV 내려받기"),
    "h_units": ("By unit", "부서별"),
    "h_members": ("Members", "인원"),
    "h_met": ("Met", "충족"),
    "h_percent_met": ("% met", "충족률"),
    "h_average": ("Average hours", "평균 시간"),
    "h_no_unit": ("No unit", "부서 없음"),
    "h_people": ("By person", "개인별"),
    "h_count": ("{n} people", "{n}명"),
    "h_person": ("Person", "이름"),
    "h_hours": ("Hours", "시간"),
    "h_designated": ("Designated", "부서 지정"),
    "h_mandatory": ("Mandatory", "필수"),
    "h_informal": ("Informal", "비형식"),
    "h_capped": ("{n} over the cap", "상한 초과 {n}"),
    "h_required": ("Required", "의무"),
    "h_remaining": ("Remaining", "남은 시간"),
    "h_sources": ("From", "출처"),
    "h_source_here": ("here", "이곳"),
    "h_source_shared": ("shared", "공유"),
}
