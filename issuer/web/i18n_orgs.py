"""Organisations' words in English and Korean (merged into ``issuer.web.i18n.MESSAGES``): the
wallet's "share with my organisation" and the console's organisation page."""

from __future__ import annotations

ORGS: dict[str, tuple[str, str]] = {
    "org_share_title": ("Share with my organisation", "내 기관과 공유"),
    "org_share_note": (
        "Your organisation counts a badge from elsewhere only if you share it and it trusts "
        "the issuer. You can withdraw it at any time.",
        "다른 기관의 배지는 내가 공유하고 소속 기관이 그 발급기관을 신뢰할 때에만 인정됩니다. "
        "언제든지 공유를 철회할 수 있습니다.",
    ),
    "org_share": ("Share with {name}", "{name}와(과) 공유"),
    "org_shared": ("Shared with {name}", "{name}와(과) 공유함"),
    "org_withdraw": ("Withdraw from {name}", "{name}에서 공유 철회"),
    "org_shared_done": ("Shared with your organisation", "기관과 공유했습니다"),
    "org_withdrawn_done": ("Sharing withdrawn", "공유를 철회했습니다"),
    "org_title": ("Organisation", "기관"),
    "org_units": ("Departments", "부서"),
    "org_unit_code": ("Code", "코드"),
    "org_unit_name": ("Name", "이름"),
    "org_unit_parent": ("Part of", "상위 부서"),
    "org_unit_supervisor": ("Supervisor", "부서장"),
    "org_unit_members": ("Members", "인원"),
    "org_roster": ("On the roster", "명부 인원"),
    "org_trusted": ("Trusted issuers", "신뢰하는 발급기관"),
    "org_home": ("home", "소속 기관"),
    "org_here": ("on this Laurel", "이 Laurel"),
    "org_elsewhere": ("elsewhere", "외부"),
    "org_pending": (
        "waiting for its agreement: its badges do not count yet",
        "발급기관의 동의 대기 중: 아직 배지가 인정되지 않습니다",
    ),
    "org_shared_per_source": ("Shared credentials per source", "출처별 공유된 자격증명"),
    "org_source_issuer": ("Issuer", "발급기관"),
    "org_counting": ("Counting", "인정"),
    "org_withdrawn": ("Withdrawn", "철회"),
    "org_revoked": ("Revoked", "취소"),
    "org_untrusted": ("Issuer no longer trusted", "신뢰 해제된 발급기관"),
    "org_none": (
        "This issuer runs no organisation yet: create one with `laurel orgs create` or "
        "POST /api/v1/orgs.",
        "이 발급기관이 운영하는 기관이 아직 없습니다. `laurel orgs create` 또는 "
        "POST /api/v1/orgs 로 만드세요.",
    ),
    "org_nothing_shared": ("Nothing shared yet.", "아직 공유된 것이 없습니다."),
    "org_saved": ("Saved", "저장했습니다"),
    "org_row": ("Row", "행"),
    "org_distrust": ("Stop trusting", "신뢰 해제"),
    "org_trust": ("Trust this issuer", "이 발급기관 신뢰"),
    "org_trust_local": (
        "An issuer on this Laurel (its slug)",
        "이 Laurel의 발급기관 (슬러그)",
    ),
    "org_trust_ref": (
        "Or an issuer elsewhere (its DID or URL)",
        "또는 외부 발급기관 (DID 또는 URL)",
    ),
    "org_trust_name": ("Its name (for one elsewhere)", "이름 (외부 발급기관)"),
    "org_uploads": ("Departments and roster", "부서와 명부"),
    "org_units_csv": ("Departments (CSV, replaces them)", "부서 (CSV, 전체 교체)"),
    "org_roster_csv": (
        "Roster (CSV; people missing from it are marked as left)",
        "명부 (CSV, 빠진 사람은 퇴직 처리)",
    ),
    "org_upload": ("Upload", "올리기"),
}
