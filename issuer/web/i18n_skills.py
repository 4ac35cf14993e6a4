"""The skills picture's words on the dashboard in English and Korean (merged into
``issuer.web.i18n.MESSAGES``)."""

from __future__ import annotations

SKILLS: dict[str, tuple[str, str]] = {
    "sk_explain_title": (
        "Why this skill: the badges that contributed",
        "이 역량의 근거: 기여한 배지",
    ),
    "sk_explain_for": ("for {who}", "대상: {who}"),
    "sk_everyone": ("everyone", "전체"),
    "sk_codes": ("Codes", "코드"),
    "sk_rolls_up": ("Rolls up to", "상위 역량"),
    "sk_badge": ("Badge", "배지"),
    "sk_person": ("Person", "사람"),
    "sk_type_factor": ("Type factor", "유형 계수"),
    "sk_hours_factor": ("Hours factor", "시간 계수"),
    "sk_alignment_factor": ("Alignment factor", "정렬 계수"),
    "sk_recency_factor": ("Recency factor", "최신성 계수"),
    "sk_contribution": ("Contribution", "기여도"),
    "sk_primary": ("primary", "주 정렬"),
    "sk_secondary": ("secondary", "보조 정렬"),
    "sk_total": ("Total weight", "가중치 합계"),
    "sk_evidence_level": ("Evidence level", "근거 수준"),
    "sk_assessed_level": ("Assessed proficiency", "평가된 숙련도"),
    "sk_basis_evidence": (
        "evidence level: from the badges' type, hours, alignment and recency",
        "근거 수준: 배지의 유형·시간·정렬·최신성으로 계산",
    ),
    "sk_basis_assessed": (
        "assessed proficiency: from an assessed result on a badge",
        "평가된 숙련도: 배지에 담긴 평가 결과",
    ),
    "sk_next_level": ("Next level at a weight of {weight}", "다음 수준: 가중치 {weight}부터"),
    "sk_top_level": ("The highest level", "최고 수준"),
    "sk_no_contributions": (
        "No valid badge adds to this skill.",
        "이 역량에 기여하는 유효한 배지가 없습니다.",
    ),
    "sk_rollup_title": (
        "Executive Core Qualifications (competencies rolled up)",
        "고위공무원단 핵심역량(하위역량 합산)",
    ),
    "sk_children": ("Competencies", "하위역량"),
    "sk_thin": ("thin", "부족"),
    "sk_growing": ("growing", "증가"),
    "sk_thresholds": (
        "Thin: held by fewer than {below} of {population} learners (the larger of {share}% of "
        "the group and the {pct}th percentile, {cut}). Growing: more new learners in 12 months "
        "than the median skill ({median}).",
        "부족: 학습자 {population}명 중 {below}명 미만 보유(집단의 {share}%와 {pct}백분위수 {cut} "
        "중 큰 값). 증가: 12개월간 새 보유자가 중앙값({median})보다 많음.",
    ),
    "sk_explain_link": ("Explain {name}", "{name} 근거 보기"),
    "sk_team_title": ("Form a team", "팀 구성"),
    "sk_team_skills": ("Skills the team needs", "팀에 필요한 역량"),
    "sk_team_size": ("Team size (at most)", "팀 인원(최대)"),
    "sk_team_critical": ("Critical skills (two holders)", "핵심 역량(2명 보유)"),
    "sk_team_form": ("Form the team", "팀 구성하기"),
    "sk_team_members": ("Members", "구성원"),
    "sk_team_uncovered": ("No one holds", "보유자 없음"),
    "sk_team_backup": ("second holder of {skills}", "{skills}의 두 번째 보유자"),
    "sk_team_none": (
        "No one at this institute holds these skills yet.",
        "이 기관에 이 역량을 가진 사람이 아직 없습니다.",
    ),
    "sk_readiness": ("Readiness: {pct}%", "준비도: {pct}%"),
    "sk_next_step": ("Next step", "다음 단계"),
    "sk_next_step_none": (
        "nothing offered here closes it yet",
        "이곳에서 제공하는 과정이 아직 없습니다",
    ),
    "sk_basis": ("Basis", "근거"),
    "sk_learner_email": ("One learner (email, optional)", "학습자 한 명(이메일, 선택)"),
}
