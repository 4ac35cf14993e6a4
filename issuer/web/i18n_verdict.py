"""The words of a verification, in English and Korean: the verdict for each kind
(``issuer.services.verdicts``), the issuer's identity, each check and its reason, achievement
types and result statuses, and dates as people read them.

The verifier's reasons are plain English with the specifics (ids, URLs, dates). On a Korean page a
check's reason is a Korean sentence chosen by the check's name, outcome and ``code``; the English
original stays available as the technical detail under it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from issuer.artifacts.certificate import format_date

WORDS: dict[str, tuple[str, str]] = {
    # verdict headlines, by kind
    "kind_verified": ("Verified", "검증됨"),
    "kind_verified_text": (
        "This badge is genuine, valid and not revoked.",
        "진본이며 유효하고 취소되지 않은 배지입니다.",
    ),
    "kind_verified_known_text": (
        "This badge is genuine, valid and not revoked, from {name}, listed in “{registry}”.",
        "“{registry}”에 등록된 {name}이(가) 발급한, 진본이며 유효하고 취소되지 않은 배지입니다.",
    ),
    "kind_verified_known_id_text": (
        "This badge is genuine, valid and not revoked. Its issuer {id} is listed in "
        "“{registry}”, which gives no name for it: any name the badge shows is the issuer's "
        "own claim.",
        "진본이며 유효하고 취소되지 않은 배지입니다. 발급 기관 {id}은(는) “{registry}”에 "
        "등록되어 있지만 목록에 이름이 없으므로, 배지에 표시된 이름은 발급 기관 스스로 밝힌 "
        "것입니다.",
    ),
    "kind_verified_linked_text": (
        "This badge is genuine, valid and not revoked. Its issuer controls the web domain "
        "{domain}: check that this is the institution you expect.",
        "진본이며 유효하고 취소되지 않은 배지입니다. 발급 기관은 웹 도메인 {domain}을(를) "
        "관리합니다. 기대한 기관이 맞는지 확인하세요.",
    ),
    "kind_unconfirmed": ("Genuine, but the issuer is not confirmed", "진본이지만 발급 기관 미확인"),
    "kind_unconfirmed_text": (
        "The badge is intact and valid, but nothing confirms who issued it: anyone can create "
        "an issuer like this one. Ask the issuer before relying on it.",
        "배지는 변조되지 않았고 유효하지만, 누가 발급했는지 확인해 주는 것이 없습니다. 이런 발급 "
        "기관은 누구나 만들 수 있습니다. 신뢰하기 전에 발급 기관에 확인하세요.",
    ),
    "kind_expired": ("Expired on {date}", "{date}에 만료됨"),
    "kind_expired_text": (
        "It was genuine, but it is no longer valid.",
        "진본이었지만 더 이상 유효하지 않습니다.",
    ),
    "kind_not-yet-valid": (
        "Not valid yet: valid from {date}",
        "아직 유효하지 않음: {date}부터 유효",
    ),
    "kind_not-yet-valid_text": (
        "It is genuine, but it only becomes valid on {date}.",
        "진본이지만 {date}부터 유효합니다.",
    ),
    "kind_revoked": ("Revoked", "취소됨"),
    "kind_revoked_on": ("Revoked on {date}", "{date}에 취소됨"),
    "kind_revoked_text": (
        "The issuer has withdrawn this badge. Do not rely on it.",
        "발급 기관이 이 배지를 취소했습니다. 신뢰하지 마세요.",
    ),
    "kind_failed": ("Not verified", "검증 실패"),
    "kind_failed_text": ("Do not rely on this badge.", "이 배지를 신뢰하지 마세요."),
    "kind_unknown": ("Could not verify", "검증할 수 없음"),
    "kind_unknown_text": (
        "Laurel could not finish checking this badge; it is not shown as valid.",
        "Laurel이 이 배지의 검증을 마치지 못했습니다. 유효한 것으로 표시하지 않습니다.",
    ),
    # short statuses (cards, lists)
    "status_valid": ("Valid", "유효"),
    "status_unconfirmed": ("Issuer not confirmed", "발급 기관 미확인"),
    "status_expired": ("Expired", "만료됨"),
    "status_expired_on": ("Expired {date}", "{date} 만료"),
    "status_not-yet-valid": ("Not valid yet", "아직 유효하지 않음"),
    "status_not-yet-valid_on": ("Valid from {date}", "{date}부터 유효"),
    "status_revoked": ("Revoked", "취소됨"),
    "status_revoked_on": ("Revoked {date}", "{date} 취소"),
    "status_not-verified": ("Not verified", "검증 실패"),
    "status_unknown": ("Could not verify", "검증 불가"),
    "status_legacy": ("Open Badges 2.0 (not verified)", "오픈배지 2.0 (검증 안 됨)"),
    # identity
    "identity_title": ("Who issued it", "발급 기관 확인"),
    "identity_known": ("Known issuer", "확인된 발급 기관"),
    "identity_known_text": (
        "Listed in the trust list “{registry}”.",
        "신뢰 목록 “{registry}”에 등록되어 있습니다.",
    ),
    "identity_linked": ("Issuer linked to {domain}", "{domain}에 연결된 발급 기관"),
    "identity_linked_did_web": (
        "The issuer's identity is published on the web domain {domain}, so whoever controls "
        "that domain issued it. The name shown is the issuer's own.",
        "발급 기관의 신원이 웹 도메인 {domain}에 게시되어 있어, 그 도메인을 관리하는 곳이 발급한 "
        "것입니다. 표시된 이름은 발급 기관이 스스로 밝힌 것입니다.",
    ),
    "identity_linked_did_configuration": (
        "The website {domain} confirms this issuer (DID Configuration), and the issuer names "
        "that website. The name shown is the issuer's own.",
        "웹사이트 {domain}이(가) 이 발급 기관을 확인하고(DID Configuration) 발급 기관도 그 "
        "웹사이트를 밝히고 있습니다. 표시된 이름은 발급 기관이 스스로 밝힌 것입니다.",
    ),
    "identity_unconfirmed": ("Unconfirmed issuer", "미확인 발급 기관"),
    "identity_unconfirmed_text": (
        "Only self-declared. Anyone can create an issuer like this, and “{name}” is the "
        "issuer's own claim: no trust list and no web domain confirms it.",
        "스스로 밝힌 정보뿐입니다. 이런 발급 기관은 누구나 만들 수 있으며, “{name}”은(는) 발급 "
        "기관의 주장일 뿐 신뢰 목록이나 웹 도메인으로 확인되지 않습니다.",
    ),
    "identity_unbound_text": (
        "The signature is not tied to the issuer, so nothing confirms who issued it.",
        "서명이 발급 기관과 연결되지 않아 누가 발급했는지 확인할 수 없습니다.",
    ),
    "identity_short_known": ("known issuer", "확인된 발급 기관"),
    "identity_short_linked": ("linked to a web domain", "웹 도메인 연결"),
    "identity_short_unconfirmed": ("unconfirmed issuer", "미확인 발급 기관"),
    "identity_no_name": ("the name shown", "표시된 이름"),
    "identity_claimed": ("Name in the badge", "배지에 적힌 이름"),
    "identity_legal_name": ("Name in the trust list", "신뢰 목록의 이름"),
    "identity_location": ("Location", "소재지"),
    "identity_website": ("Website", "웹사이트"),
    "identity_also_in": ("Also in", "다른 신뢰 목록"),
    "identity_not_checked": ("Not checked", "확인하지 못함"),
    # details
    "narrative": ("About this award", "수여 내용"),
    "results": ("Results", "결과"),
    "role": ("Role", "역할"),
    "term": ("Term", "기간"),
    "activity": ("Activity", "활동 기간"),
    "technical_detail": ("Technical detail", "기술 정보"),
    "check_email": ("Was it issued to this email?", "이 이메일로 발급되었나요?"),
    "check_email_help": (
        "Optional: the email is only compared with the badge's hashed recipient, never stored.",
        "선택 사항: 이메일은 배지의 해시된 수령인 정보와 비교만 하며 저장하지 않습니다.",
    ),
    "not_a_badge": (
        "This is not an Open Badge: nothing in it could be read as a credential.",
        "오픈배지가 아닙니다: 자격 증명으로 읽을 수 있는 내용이 없습니다.",
    ),
}

CHECK_NAMES: dict[str, tuple[str, str]] = {
    "input": ("input", "입력"),
    "context": ("context", "컨텍스트"),
    "context version": ("context version", "컨텍스트 버전"),
    "type": ("type", "유형"),
    "schema": ("schema", "스키마"),
    "proof": ("signature", "서명"),
    "proof suite": ("signature suite", "서명 방식"),
    "other proofs": ("other signatures", "다른 서명"),
    "jwt claims": ("JWT claims", "JWT 클레임"),
    "issuer": ("issuer's key", "발급 기관의 키"),
    "validity": ("validity", "유효 기간"),
    "status": ("revocation", "취소 여부"),
    "endorsements": ("endorsements", "보증"),
    "nested credentials": ("included credentials", "포함된 자격 증명"),
    "recipient": ("recipient", "수령인"),
    "refresh": ("refresh", "갱신"),
}

# Korean reasons: (check, outcome, code) first, then (check, outcome).
_KOREAN_REASONS: dict[tuple[str, ...], str] = {
    ("input", "passed"): "자격 증명을 읽었습니다.",
    ("input", "failed", "too_large"): "파일이 너무 큽니다.",
    ("input", "failed", "too_complex"): (
        "자격 증명이 너무 복잡해서 검증할 수 없습니다(처리 한도를 넘었습니다)."
    ),
    ("input", "failed", "no_credential_found"): "이미지에 배지 정보가 들어 있지 않습니다.",
    ("input", "failed"): "JSON, VC-JWT, 배지 PNG/SVG 중 어느 것으로도 읽을 수 없습니다.",
    ("input", "unknown"): "주소에서 자격 증명을 가져오지 못했습니다.",
    ("context", "passed"): "JSON-LD 컨텍스트가 표준을 따르고 모든 항목이 정의되어 있습니다.",
    ("context", "failed", "not_in_terms"): (
        "자격 증명이 컨텍스트의 정해진 용어로 쓰여 있지 않습니다: 서명된 내용이 검사하지 않는 "
        "곳으로 옮겨졌을 수 있습니다."
    ),
    ("context", "failed"): "JSON-LD 컨텍스트가 표준과 다르거나 정의되지 않은 항목이 있습니다.",
    ("context version", "failed"): "이전 버전의 오픈배지 컨텍스트를 사용합니다.",
    ("type", "passed"): "오픈배지 자격 증명 유형입니다.",
    ("type", "failed"): "오픈배지 자격 증명 유형이 아닙니다.",
    ("schema", "passed"): "오픈배지 3.0 JSON 스키마를 따릅니다.",
    ("schema", "failed"): "오픈배지 3.0 JSON 스키마와 맞지 않습니다.",
    ("schema", "unknown"): "이 자격 증명에 적용할 오픈배지 3.0 스키마가 없습니다.",
    ("schema", "skipped"): "이 자격 증명 유형에 적용할 스키마가 없습니다.",
    ("proof", "passed"): "서명이 유효합니다: 발급 후 내용이 바뀌지 않았습니다.",
    ("proof", "failed", "invalid_signature"): (
        "서명이 내용과 일치하지 않습니다: 내용이 바뀌었거나 위조되었습니다."
    ),
    ("proof", "failed", "algorithm_not_allowed"): "허용되지 않은 서명 알고리즘입니다.",
    ("proof", "failed", "not_in_terms"): (
        "자격 증명이 컨텍스트의 정해진 용어로 쓰여 있지 않습니다: 서명된 내용이 검사하지 않는 "
        "곳으로 옮겨졌을 수 있습니다."
    ),
    ("proof", "failed"): "서명을 확인할 수 없습니다: 서명이나 키가 없거나 형식이 잘못되었습니다.",
    ("proof", "unknown"): "서명 키를 가져오지 못해 서명을 확인하지 못했습니다.",
    ("proof suite", "failed"): "이전 방식의 서명입니다.",
    ("other proofs", "failed"): "다른 서명 중 일부는 확인되지 않았습니다.",
    ("jwt claims", "passed"): "JWT 클레임이 자격 증명과 일치합니다.",
    ("jwt claims", "failed"): "JWT 클레임이 자격 증명과 다릅니다.",
    ("issuer", "passed"): "서명 키가 발급 기관 자신의 문서에 발급용 키로 등록되어 있습니다.",
    ("issuer", "failed", "unbindable_issuer"): (
        "발급 기관 ID가 웹 주소나 DID가 아니어서 서명 키를 발급 기관과 연결할 수 없습니다."
    ),
    ("issuer", "failed"): "서명 키가 발급 기관의 발급용 키가 아닙니다.",
    ("issuer", "unknown"): "발급 기관의 문서를 가져오지 못해 키의 소유를 확인하지 못했습니다.",
    ("issuer", "skipped"): "확인된 서명이 없어 건너뛰었습니다.",
    ("validity", "passed"): "유효 기간 안에 있습니다.",
    ("validity", "failed", "expired"): "유효 기간이 지났습니다.",
    ("validity", "failed", "not_yet_valid"): "아직 유효 기간이 시작되지 않았습니다.",
    ("validity", "failed"): "유효 기간 정보가 잘못되었습니다.",
    ("status", "passed"): "취소되지 않았습니다.",
    ("status", "failed", "revoked"): "발급 기관이 취소했습니다.",
    ("status", "failed"): "취소 여부 정보가 잘못되었습니다.",
    ("status", "unknown", "status_verification_error"): (
        "상태 목록을 신뢰할 수 없어 취소 여부를 확인하지 못했습니다: 서명, 발급 기관, 유효 기간 "
        "또는 용도가 맞지 않습니다."
    ),
    ("status", "unknown", "status_list_length_error"): (
        "상태 목록이 규격보다 짧아 취소 여부를 확인하지 못했습니다."
    ),
    ("status", "unknown", "range_error"): (
        "배지의 상태 번호가 상태 목록의 범위를 벗어나 취소 여부를 확인하지 못했습니다."
    ),
    ("status", "unknown", "malformed_value_error"): (
        "상태 정보의 형식이 잘못되어 취소 여부를 확인하지 못했습니다."
    ),
    ("status", "unknown"): "상태 목록을 가져오지 못해 취소 여부를 확인하지 못했습니다.",
    ("status", "skipped"): "상태 정보가 없어 취소될 수 없는 배지입니다.",
    ("endorsements", "passed"): "포함된 보증이 모두 유효합니다.",
    ("endorsements", "failed"): "일부 보증을 확인하지 못했습니다.",
    ("endorsements", "unknown"): "일부 보증은 확인하지 않았습니다.",
    ("nested credentials", "passed"): "포함된 자격 증명이 모두 유효합니다.",
    ("nested credentials", "failed"): "포함된 자격 증명 중 일부를 확인하지 못했습니다.",
    ("nested credentials", "unknown"): "포함된 자격 증명 중 일부는 확인하지 않았습니다.",
    ("recipient", "passed"): "이 이메일로 발급된 배지입니다.",
    ("recipient", "failed"): "이 이메일로 발급된 배지가 아닙니다.",
    ("refresh", "skipped"): "갱신 서비스는 호출하지 않습니다.",
}

ACHIEVEMENT_TYPES: dict[str, tuple[str, str]] = {
    "Achievement": ("Achievement", "성취"),
    "ApprenticeshipCertificate": ("Apprenticeship certificate", "도제 수료증"),
    "Assessment": ("Assessment", "평가"),
    "Assignment": ("Assignment", "과제"),
    "AssociateDegree": ("Associate degree", "전문학사 학위"),
    "Award": ("Award", "상"),
    "Badge": ("Badge", "배지"),
    "BachelorDegree": ("Bachelor's degree", "학사 학위"),
    "Certificate": ("Certificate", "인증서"),
    "CertificateOfCompletion": ("Certificate of completion", "수료증"),
    "Certification": ("Certification", "자격 인증"),
    "CommunityService": ("Community service", "사회 봉사"),
    "Competency": ("Competency", "역량"),
    "Course": ("Course", "교육 과정"),
    "CoCurricular": ("Co-curricular activity", "비교과 활동"),
    "Degree": ("Degree", "학위"),
    "Diploma": ("Diploma", "졸업장"),
    "DoctoralDegree": ("Doctoral degree", "박사 학위"),
    "Fieldwork": ("Fieldwork", "현장 실습"),
    "GeneralEducationDevelopment": ("General education development (GED)", "검정고시"),
    "JourneymanCertificate": ("Journeyman certificate", "숙련공 자격증"),
    "LearningProgram": ("Learning programme", "학습 프로그램"),
    "License": ("Licence", "면허"),
    "Membership": ("Membership", "회원 자격"),
    "ProfessionalDoctorate": ("Professional doctorate", "전문 박사 학위"),
    "QualityAssuranceCredential": ("Quality assurance credential", "품질 보증 인증"),
    "MasterCertificate": ("Master certificate", "마스터 인증서"),
    "MasterDegree": ("Master's degree", "석사 학위"),
    "MicroCredential": ("Micro-credential", "마이크로 자격"),
    "ResearchDoctorate": ("Research doctorate", "연구 박사 학위"),
    "SecondarySchoolDiploma": ("Secondary school diploma", "고등학교 졸업장"),
}

RESULT_STATUSES: dict[str, tuple[str, str]] = {
    "Completed": ("Completed", "이수"),
    "Enrolled": ("Enrolled", "등록"),
    "Failed": ("Failed", "미이수"),
    "InProgress": ("In progress", "진행 중"),
    "OnHold": ("On hold", "보류"),
    "Provisional": ("Provisional", "잠정"),
    "Withdrew": ("Withdrew", "중도 포기"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "ko" and pair[1] else pair[0]


def check_name(name: str, lang: str) -> str:
    pair = CHECK_NAMES.get(name)
    return _pick(pair, lang) if pair else name


def check_reason(check: Any, lang: str) -> str:
    """A check's reason in the page's language (``check`` a ``Check`` or its JSON form)."""
    fields: dict[str, Any] = (
        check
        if isinstance(check, dict)
        else {k: getattr(check, k, None) for k in ("reason", "outcome", "name", "code")}
    )
    reason = str(fields.get("reason") or "")
    if lang != "ko":
        return reason
    outcome = fields.get("outcome")
    outcome = str(getattr(outcome, "value", outcome))
    name, code = str(fields.get("name")), str(fields.get("code"))
    return (
        _KOREAN_REASONS.get((name, outcome, code)) or _KOREAN_REASONS.get((name, outcome)) or reason
    )


def achievement_type(value: str | None, lang: str) -> str | None:
    """An achievement type in words (``CertificateOfCompletion`` -> "Certificate of completion";
    an ``ext:`` type is spelled out from its name)."""
    if not value:
        return None
    pair = ACHIEVEMENT_TYPES.get(value)
    if pair:
        return _pick(pair, lang)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", value.removeprefix("ext:")).strip()
    return words[:1].upper() + words[1:].lower() if words else value


def result_status(value: str | None, lang: str) -> str | None:
    if not value:
        return None
    pair = RESULT_STATUSES.get(value)
    return _pick(pair, lang) if pair else value


def when(value: date | str | None, lang: str) -> str:
    """A date (or the date part of an ISO time) as people read it in ``lang``."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value[:10]), lang)
        except ValueError:
            return value
    return format_date(value, lang)


def words(lang: str) -> dict[str, Any]:
    """Template helpers for a page in ``lang``."""

    def w(key: str, **values: object) -> str:
        text = _pick(WORDS[key], lang)
        return text.format(**values) if values else text

    return {
        "w": w,
        "check_name": lambda name: check_name(name, lang),
        "check_reason": lambda check: check_reason(check, lang),
        "achievement_type": lambda value: achievement_type(value, lang),
        "result_status": lambda value: result_status(value, lang),
        "when": lambda value: when(value, lang),
    }
