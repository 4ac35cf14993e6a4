"""The words of the wallet's informal-learning pages (``/wallet/claims``, ``/wallet/endorse``) in
English and Korean."""

from __future__ import annotations

INFORMAL: dict[str, tuple[str, str]] = {
    "claims": ("Learning claims", "학습 신청"),
    "claims_title": ("Informal learning claims", "비공식 학습 신청"),
    "claims_help": (
        "Claim learning outside courses: a study group, mentoring, coaching, job rotation, "
        "shadowing or a project. The supervisor named for your department endorses or returns "
        "it; an endorsed claim becomes a badge, with hours counted within a yearly cap for each "
        "kind of learning.",
        "교육과정 밖의 학습을 신청하세요: 학습동아리, 멘토링, 코칭, 직무순환, 업무 참관, "
        "프로젝트. 부서의 감독자가 확인하거나 반려하며, 확인된 신청은 배지가 되고 학습 유형별 "
        "연간 인정 한도 안에서 학습시간이 인정됩니다.",
    ),
    "not_a_member": (
        "You are not on the roster of any organisation, so there is nobody to endorse a claim.",
        "어느 기관의 명단에도 없어서 신청을 확인할 사람이 없습니다.",
    ),
    "new_claim": ("New claim", "새 신청"),
    "edit_claim": ("Change and send again", "수정하여 다시 보내기"),
    "organisation": ("Organisation", "기관"),
    "kind_of_learning": ("Kind of learning", "학습 유형"),
    "activity_title": ("Activity", "활동명"),
    "started_on": ("Started on", "시작일"),
    "ended_on": ("Ended on", "종료일"),
    "hours_claimed": ("Hours", "학습시간"),
    "evidence_link": ("Evidence link (optional)", "증빙 링크 (선택)"),
    "evidence_text": ("Evidence described (optional)", "증빙 설명 (선택)"),
    "evidence_help": (
        "Give a link, a description, or both: a meeting log, a report, what others can check.",
        "링크나 설명, 또는 둘 다: 모임 기록, 보고서 등 다른 사람이 확인할 수 있는 것.",
    ),
    "what_learned": ("What you learned", "배운 점"),
    "send_claim": ("Send to my supervisor", "감독자에게 보내기"),
    "my_claims": ("My claims", "내 신청"),
    "no_claims": ("No claims yet.", "아직 신청이 없습니다."),
    "state_submitted": ("Waiting for {email}", "{email}의 확인 대기 중"),
    "state_returned": ("Returned", "반려됨"),
    "state_endorsed": ("Endorsed", "확인됨"),
    "state_withdrawn": ("Withdrawn", "철회됨"),
    "supervisor_said": ("Supervisor's comment:", "감독자 의견:"),
    "hours_line": (
        "{claimed} h claimed · {endorsed} h endorsed · {counted} h counted",
        "신청 {claimed}시간 · 확인 {endorsed}시간 · 인정 {counted}시간",
    ),
    "capped_some": (
        "Only {counted} of the {endorsed} endorsed hours count: {category} counts at most {cap} "
        "hours a year, and your other {category} claims of {year} already count {used}.",
        "확인된 {endorsed}시간 중 {counted}시간만 인정됩니다: {category}은(는) 연간 최대 "
        "{cap}시간까지 인정되며, {year}년의 다른 {category} 신청이 이미 {used}시간 인정되었습니다.",
    ),
    "capped_all": (
        "None of the {endorsed} endorsed hours count: your {category} claims of {year} already "
        "reach the yearly cap of {cap} hours.",
        "확인된 {endorsed}시간은 인정되지 않습니다: {year}년의 {category} 신청이 이미 연간 "
        "한도 {cap}시간에 이르렀습니다.",
    ),
    "see_badge": ("See the badge", "배지 보기"),
    "withdraw": ("Withdraw", "철회"),
    "claim_sent": (
        "Your claim was sent to your supervisor.",
        "신청이 감독자에게 전달되었습니다.",
    ),
    "claim_withdrawn": ("Your claim was withdrawn.", "신청이 철회되었습니다."),
    "to_endorse": ("Claims to endorse", "확인할 신청"),
    "to_endorse_count": (
        "{count} claim(s) wait for your endorsement.",
        "확인을 기다리는 신청이 {count}건 있습니다.",
    ),
    "endorse_title": ("Claims waiting for your endorsement", "확인을 기다리는 신청"),
    "endorse_help": (
        "You are named as the supervisor who endorses informal learning for these people's "
        "departments. Endorse what they learned (for fewer hours if that is fairer) or return "
        "the claim with what to change. An endorsement is added to the badge they receive, "
        "with your name and comment.",
        "이 사람들의 부서에서 비공식 학습을 확인하는 감독자로 지정되어 있습니다. 배운 점을 "
        "확인하거나(더 적은 시간으로도 가능) 고칠 점을 적어 반려하세요. 확인은 이름과 의견과 "
        "함께 그들이 받는 배지에 추가됩니다.",
    ),
    "nothing_to_endorse": ("Nothing waits for you.", "기다리는 신청이 없습니다."),
    "claimed_by": ("Claimed by", "신청자"),
    "department": ("Department", "부서"),
    "dates": ("Dates", "기간"),
    "hours_to_endorse": ("Hours to endorse (at most {hours})", "확인할 시간 (최대 {hours})"),
    "comment_optional": ("Comment (optional)", "의견 (선택)"),
    "comment_required": ("What to change (required)", "고칠 점 (필수)"),
    "endorse": ("Endorse", "확인"),
    "return_claim": ("Return", "반려"),
    "decided_recently": ("Decided recently", "최근 결정"),
    "claim_endorsed": (
        "Endorsed: the badge was issued to {name}.",
        "확인했습니다: {name}님에게 배지가 발급되었습니다.",
    ),
    "claim_returned": ("Returned to {name}.", "{name}님에게 반려했습니다."),
    "category_study_group": ("Study group", "학습동아리"),
    "category_mentoring": ("Mentoring", "멘토링"),
    "category_coaching": ("Coaching", "코칭"),
    "category_job_rotation": ("Job rotation", "직무순환"),
    "category_shadowing": ("Job shadowing", "업무 참관"),
    "category_project": ("Project", "프로젝트"),
    # the console's read-only list (/console/claims)
    "c_no_org": (
        "This issuer is not the home of an organisation, so it has no learning claims.",
        "이 발급 기관은 어느 기관의 본부도 아니어서 학습 신청이 없습니다.",
    ),
    "c_claim_submitted": ("Waiting", "대기 중"),
    "c_claim_returned": ("Returned", "반려됨"),
    "c_claim_endorsed": ("Endorsed", "확인됨"),
    "c_claim_withdrawn": ("Withdrawn", "철회됨"),
    "c_claim_hours": ("Hours claimed / endorsed / counted", "신청 / 확인 / 인정 시간"),
    "c_supervisor": ("Supervisor", "감독자"),
}
