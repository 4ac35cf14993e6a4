"""The wallet's and the dashboard's words in English and Korean. ``t(key)`` in a template; a
missing Korean text falls back to English, a missing key is a bug (a test renders every page in
both languages and fails on ``KeyError``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape

from issuer.web.i18n_console import CONSOLE
from issuer.web.i18n_home import HOME
from issuer.web.i18n_hours import HOURS
from issuer.web.i18n_informal import INFORMAL
from issuer.web.i18n_orgs import ORGS
from issuer.web.i18n_plans import PLANS
from issuer.web.i18n_skills import SKILLS
from issuer.web.i18n_verdict import WORDS, check_name, check_reason, words
from verifier import Check

MESSAGES: dict[str, tuple[str, str]] = {
    **HOME,  # the front door (GET /)
    # public pages: the verification report (/v/{id}, /verify, share links, the wallet)
    "verification": ("Open Badges 3.0 verification", "오픈배지 3.0 검증"),
    "checked_by": (
        "Checked by Laurel against the Open Badges 3.0 standard.",
        "Laurel이 오픈배지 3.0 표준에 따라 검증했습니다.",
    ),
    "verify_another": ("Verify another badge", "다른 배지 검증하기"),
    "why": ("Why:", "사유:"),
    "issuer_reason": ("The issuer's reason:", "발급 기관의 사유:"),
    "badge_image": ("Badge image: {name}", "배지 이미지: {name}"),
    "criteria": ("Criteria:", "이수 기준:"),
    "details": ("Details", "상세 정보"),
    "issued_by": ("Issued by", "발급 기관"),
    "no_name": ("(no name)", "(이름 없음)"),
    "awarded_to": ("Awarded to", "수여 대상"),
    "expires_title": ("Expires", "만료일"),
    "no_expiry": ("Does not expire", "만료 없음"),
    "learning_hours_label": ("Learning hours", "학습 시간"),
    "credential_id": ("Credential id", "자격 증명 ID"),
    "evidence": ("Evidence", "증빙"),
    "every_check": ("Every check", "모든 검사 항목"),
    "outcome_passed": ("Passed", "통과"),
    "outcome_failed": ("Failed", "실패"),
    "outcome_unknown": ("Unknown", "확인 불가"),
    "outcome_skipped": ("Skipped", "건너뜀"),
    "warning_only": ("(warning only)", "(경고만)"),
    "dl_json": ("Credential (JSON)", "자격 증명 (JSON)"),
    "dl_jwt": ("Credential (VC-JWT)", "자격 증명 (VC-JWT)"),
    "dl_png": ("Baked badge (PNG)", "배지 이미지 (PNG)"),
    "dl_svg": ("Baked badge (SVG)", "배지 이미지 (SVG)"),
    "dl_pdf": ("Certificate (PDF)", "인증서 (PDF)"),
    "dl_qr": ("QR code", "QR 코드"),
    "offline_title": ("Offline QR code", "오프라인 QR 코드"),
    "offline_text": (
        "This QR code holds the signed badge itself (a VPQR), so it can be checked with no "
        "network: with Laurel (laurel verify, or this site's Verify page), the Learner Credential "
        "Wallet or any VPQR reader. Such a check proves who issued the badge and what it says. "
        "It cannot tell whether the badge was revoked since it was issued: only the issuer's "
        "status list knows that, online.",
        "이 QR 코드에는 서명된 배지 자체(VPQR)가 들어 있어 네트워크 없이도 검증할 수 있습니다: "
        "Laurel(laurel verify 또는 이 사이트의 검증 페이지), Learner Credential Wallet 또는 "
        "VPQR을 읽는 앱으로. 이 검증은 누가 발급했고 무엇을 담고 있는지 증명하지만, 발급 후 "
        "취소되었는지는 알 수 없습니다. 그것은 온라인으로 발급 기관의 상태 목록만 알려줍니다.",
    ),
    "offline_alt": ("Offline QR code of this badge", "이 배지의 오프라인 QR 코드"),
    "dl_offline_qr": ("Offline QR code (PNG)", "오프라인 QR 코드 (PNG)"),
    "dl_offline_text": ("Offline QR text (VP1-…)", "오프라인 QR 텍스트 (VP1-…)"),
    "verify_title": ("Verify an Open Badge", "오픈배지 검증하기"),
    "verify_help": (
        "Any Open Badges 3.0 credential from any issuer: paste it (or an offline QR code's "
        "VP1-… text), upload it, give its URL, or upload a photo of the QR code on a certificate.",
        "어느 기관의 오픈배지 3.0 자격 증명이든 검증합니다: 붙여넣기(오프라인 QR 코드의 VP1-… "
        "텍스트도), 파일 올리기, URL 입력, 또는 인증서의 QR 코드 사진을 올리세요.",
    ),
    "verify_paste": (
        "Paste a credential (JSON or VC-JWT)",
        "자격 증명 붙여넣기 (JSON 또는 VC-JWT)",
    ),
    "verify_upload": (
        "Or upload a file (JSON, baked PNG or SVG, or a photo of a QR code)",
        "또는 파일 올리기 (JSON, 배지 PNG/SVG, QR 코드 사진)",
    ),
    "verify_url": ("Or give its URL", "또는 URL 입력"),
    "verify_button": ("Verify", "검증"),
    # layout
    "skip": ("Skip to content", "본문으로 건너뛰기"),
    "wallet": ("Wallet", "지갑"),
    "my_badges": ("My badges", "내 배지"),
    "skills": ("Skills", "역량"),
    "import": ("Import", "가져오기"),
    "emails": ("Emails", "이메일"),
    "profile": ("Public profile", "공개 프로필"),
    "account": ("Account", "계정"),
    "apps": ("Connected apps", "연결된 앱"),
    "apps_title": ("Connected applications", "연결된 애플리케이션"),
    "apps_help": (
        "Applications you allowed to use your badges and profile. Disconnecting one ends its "
        "access at once.",
        "배지와 프로필 사용을 허락한 애플리케이션입니다. 연결을 끊으면 즉시 접근이 끝납니다.",
    ),
    "apps_none": ("No application is connected.", "연결된 애플리케이션이 없습니다."),
    "apps_last_used": ("Last used:", "마지막 사용:"),
    "apps_disconnect": ("Disconnect", "연결 끊기"),
    "apps_disconnected": ("The application was disconnected.", "애플리케이션 연결을 끊었습니다."),
    "hosts": ("Badge hosts", "배지 호스트"),
    "hosts_title": ("Badge hosts", "배지 호스트"),
    "hosts_help": (
        "Connect another Open Badges 3.0 host (another Laurel, Canvas Credentials…) and send "
        "your badges there. Enter the address of its service description.",
        "다른 오픈배지 3.0 호스트(다른 Laurel, Canvas Credentials 등)를 연결하고 배지를 보낼 수 "
        "있습니다. 호스트의 서비스 설명 주소를 입력하세요.",
    ),
    "hosts_address": ("Service description address", "서비스 설명 주소"),
    "hosts_connect": ("Connect a badge host", "배지 호스트 연결"),
    "hosts_none": ("No badge host is connected.", "연결된 배지 호스트가 없습니다."),
    "hosts_connected": ("The badge host is connected.", "배지 호스트를 연결했습니다."),
    "hosts_queued": (
        "The badge is being sent; its state is below.",
        "배지를 보내는 중입니다. 상태는 아래에 표시됩니다.",
    ),
    "hosts_disconnected": ("The badge host was disconnected.", "배지 호스트 연결을 끊었습니다."),
    "hosts_not_told": ("The host could not be told:", "호스트에 알리지 못했습니다:"),
    "hosts_badge": ("Badge", "배지"),
    "hosts_send": ("Send to this host", "이 호스트로 보내기"),
    "hosts_disconnect": ("Disconnect", "연결 끊기"),
    "hosts_send_new": (
        "Send badges I earn from now on to this host automatically",
        "앞으로 받는 배지를 이 호스트로 자동으로 보내기",
    ),
    "hosts_save": ("Save", "저장"),
    "hosts_saved": ("Saved.", "저장했습니다."),
    "hosts_pushes": ("Sent badges", "보낸 배지"),
    "push_queued": ("Queued", "대기 중"),
    "push_sent": ("Sent", "보냄"),
    "push_failed": ("Failed", "실패"),
    "push_next": ("Next attempt:", "다음 시도:"),
    "push_retry": ("Try again now", "지금 다시 시도"),
    "consent_title": ("Allow access to your badges?", "배지 접근을 허락하시겠습니까?"),
    "consent_intro": (
        "{name} asks for access to your Laurel wallet.",
        "{name}이(가) Laurel 지갑에 대한 접근을 요청합니다.",
    ),
    "consent_logo": ("{name} logo", "{name} 로고"),
    "consent_site": ("Website:", "웹사이트:"),
    "consent_terms": ("Terms of service", "서비스 약관"),
    "consent_policy": ("Privacy policy", "개인정보 처리방침"),
    "consent_scopes": ("It will be able to:", "다음을 할 수 있게 됩니다:"),
    "consent_help": (
        "Allow only applications you trust. You can disconnect it later under Connected apps.",
        "신뢰하는 애플리케이션만 허락하세요. 나중에 '연결된 앱'에서 연결을 끊을 수 있습니다.",
    ),
    "consent_allow": ("Allow", "허락"),
    "consent_deny": ("Deny", "거부"),
    "scope_credential_readonly": (
        "See your badges (credentials)",
        "내 배지(자격 증명) 보기",
    ),
    "scope_credential_upsert": (
        "Add badges to your wallet and update them",
        "내 지갑에 배지 추가 및 갱신",
    ),
    "scope_profile_readonly": ("See your profile", "내 프로필 보기"),
    "scope_profile_update": ("Change your profile", "내 프로필 변경"),
    "scope_offline_access": (
        "Keep this access while you are away (until you disconnect it)",
        "내가 없는 동안에도 접근 유지 (연결을 끊을 때까지)",
    ),
    "sign_out": ("Sign out", "로그아웃"),
    "language": ("Language", "언어"),
    "area_knowledge": ("knowledge", "지식"),
    "area_skills": ("skills", "기술"),
    "area_proficiency": ("proficiency", "숙련"),
    "area_qualifications": ("qualifications", "자격"),
    "area_general": ("general", "일반"),
    "main_nav": ("Main", "주 메뉴"),
    # sign-in
    "sign_in": ("Sign in", "로그인"),
    "sign_in_title": ("Sign in to your badge wallet", "배지 지갑 로그인"),
    "sign_in_help": (
        "Enter your email. We send you a link that signs you in; no password needed.",
        "이메일을 입력하세요. 로그인 링크를 보내 드립니다. 비밀번호는 필요 없습니다.",
    ),
    "email": ("Email", "이메일"),
    "send_link": ("Send me a sign-in link", "로그인 링크 보내기"),
    "check_email": ("Check your email", "이메일을 확인하세요"),
    "check_email_help": (
        "If {email} can receive mail, a sign-in link is on its way. It works once, for 15 minutes.",
        "{email}(으)로 로그인 링크를 보냈습니다. 15분 동안 한 번만 쓸 수 있습니다.",
    ),
    "continue_sign_in": ("Continue signing in", "로그인 계속하기"),
    "continue_help": (
        "Press the button to finish signing in with this link.",
        "버튼을 누르면 이 링크로 로그인이 완료됩니다.",
    ),
    "continue_as": (
        "This link opens the wallet of {email}. If that is not your address, do not continue: "
        "someone may have sent you a link to their own wallet.",
        "이 링크는 {email}의 지갑을 엽니다. 본인의 주소가 아니라면 계속하지 마세요. 다른 사람이 "
        "자신의 지갑 링크를 보냈을 수 있습니다.",
    ),
    "link_invalid": (
        "This link has expired or was already used. Ask for a new one.",
        "이 링크는 만료되었거나 이미 사용되었습니다. 새 링크를 요청하세요.",
    ),
    # wallet list
    "badges_count": ("{n} badges", "배지 {n}개"),
    "no_badges": (
        "No badges yet. Badges issued to your verified emails appear here; you can also import "
        "badges from other issuers.",
        "아직 배지가 없습니다. 확인된 이메일로 발급된 배지가 여기에 나타나며, 다른 기관의 배지를 "
        "가져올 수도 있습니다.",
    ),
    "filter": ("Filter", "필터"),
    "issuer": ("Issuer", "발급 기관"),
    "type": ("Type", "종류"),
    "skill": ("Skill", "역량"),
    "year": ("Year", "연도"),
    "any": ("Any", "전체"),
    "apply": ("Apply", "적용"),
    "imported": ("Imported", "가져온 배지"),
    "issued_on": ("Issued on", "발급일"),
    # badge page
    "share": ("Share", "공유"),
    "share_help": (
        "Badges are private. A share link lets anyone with it see this badge, until you revoke "
        "it or it expires.",
        "배지는 비공개입니다. 공유 링크가 있는 사람은 링크를 취소하거나 만료될 때까지 이 배지를 "
        "볼 수 있습니다.",
    ),
    "label": ("Label (for you)", "메모 (본인용)"),
    "expires_in_days": ("Expires after (days, empty: never)", "만료 (일, 비우면 무기한)"),
    "create_link": ("Create a share link", "공유 링크 만들기"),
    "your_links": ("Your links", "내 링크"),
    "revoke": ("Revoke", "취소"),
    "revoked": ("revoked", "취소됨"),
    "expires": ("expires", "만료"),
    "never": ("never", "없음"),
    "views": ("views", "조회"),
    "linkedin": ("Add to LinkedIn profile", "링크드인 프로필에 추가"),
    # the "phone wallet (OpenID4VCI)" action (issuer.web.wallet_oid4vci)
    "oid4vci_button": ("Add to a phone wallet (OpenID4VCI)", "휴대폰 지갑에 추가 (OpenID4VCI)"),
    "oid4vci_help": (
        "For wallet apps that speak OpenID for Verifiable Credential Issuance. You get a QR code "
        "and a 6-digit code, valid once for 10 minutes.",
        "OpenID4VCI를 지원하는 지갑 앱용입니다. QR 코드와 6자리 코드를 받으며, 10분 동안 한 번만 "
        "쓸 수 있습니다.",
    ),
    "oid4vci_title": ("Add to a phone wallet", "휴대폰 지갑에 추가"),
    "oid4vci_scan": (
        "Scan this QR code with your wallet app. Do not share it: with the code below it gives "
        "your badge to whoever uses it first.",
        "지갑 앱으로 이 QR 코드를 스캔하세요. 다른 사람에게 보여 주지 마세요. 아래 코드와 함께 "
        "먼저 쓰는 사람이 배지를 받습니다.",
    ),
    "oid4vci_tx_code": ("When the wallet asks for a code, enter:", "지갑 앱이 코드를 물으면 입력:"),
    "oid4vci_expires": ("Valid once, until", "한 번만 사용 가능, 만료:"),
    "oid4vci_open_here": (
        "Or open the offer in a wallet on this device",
        "또는 이 기기의 지갑 앱에서 열기",
    ),
    "oid4vci_back": ("Back to the badge", "배지로 돌아가기"),
    "downloads": ("Downloads", "내려받기"),
    "collect_title": ("Collect your badge", "배지 받기"),
    "collect_help": (
        "Put the badge into the Learner Credential Wallet app or another phone wallet. Each "
        "button makes a new offer that works once, for a few minutes; this page works until the "
        "badge is in a wallet.",
        "Learner Credential Wallet 앱이나 다른 휴대폰 지갑에 배지를 넣으세요. 버튼을 누를 때마다 "
        "몇 분 동안 한 번만 쓸 수 있는 새 제안을 만듭니다. 이 페이지는 배지가 지갑에 들어갈 "
        "때까지 쓸 수 있습니다.",
    ),
    "collect_view": ("See the badge's public page", "배지 공개 페이지 보기"),
    "lcw_add": ("Add to Learner Credential Wallet", "Learner Credential Wallet에 추가"),
    "lcw_help": (
        "Keep this badge in the Learner Credential Wallet app on your phone. The app proves "
        "that it holds a key of yours, and the badge it receives names that key as yours.",
        "이 배지를 휴대폰의 Learner Credential Wallet 앱에 보관하세요. 앱이 본인의 키를 "
        "가지고 있음을 증명하면, 앱이 받는 배지에 그 키가 본인의 것으로 기록됩니다.",
    ),
    "lcw_scan": (
        "Scan this QR code with the Learner Credential Wallet app, or open the button on the "
        "phone where the app is installed.",
        "Learner Credential Wallet 앱으로 이 QR 코드를 스캔하거나, 앱이 설치된 휴대폰에서 "
        "버튼을 누르세요.",
    ),
    "lcw_once": (
        "The link works once, until {time} UTC. Keep it to yourself: whoever uses it first "
        "receives the badge.",
        "이 링크는 {time} (UTC)까지 한 번만 쓸 수 있습니다. 먼저 쓰는 사람이 배지를 받으므로 "
        "다른 사람과 공유하지 마세요.",
    ),
    "lcw_legacy": ("For older versions of the app", "이전 버전의 앱용 링크"),
    "lcw_qr": (
        "QR code of the link to the Learner Credential Wallet",
        "Learner Credential Wallet 링크의 QR 코드",
    ),
    "back_to_badge": ("Back to the badge", "배지로 돌아가기"),
    "original": ("Original file", "원본 파일"),
    "on_profile": ("Show on my public profile", "공개 프로필에 표시"),
    "off_profile": ("Remove from my public profile", "공개 프로필에서 빼기"),
    "recheck": ("Check again now", "지금 다시 확인"),
    "last_checked": ("Last checked", "마지막 확인"),
    "legacy_note": (
        "This is an Open Badges 2.0 assertion. Laurel shows what it says but does not verify "
        "its signature.",
        "오픈배지 2.0 배지입니다. 내용은 보여 주지만 서명은 검증하지 않습니다.",
    ),
    "remove_import": ("Remove from my wallet", "지갑에서 삭제"),
    "yours": (
        "Issued to one of your verified emails: it counts in your skills and hours.",
        "확인된 내 이메일로 발급된 배지입니다. 역량과 학습 시간에 반영됩니다.",
    ),
    "not_yours": (
        "Not issued to any of your verified emails, so it does not count in your skills or "
        "hours. Add the email it was issued to, if it is yours.",
        "확인된 내 이메일로 발급되지 않아 역량과 학습 시간에 반영되지 않습니다. 발급받은 이메일이 "
        "본인 것이라면 그 이메일을 추가하세요.",
    ),
    # skills
    "skills_title": ("My skills", "나의 역량"),
    "skills_cloud_alt": ("Cloud of my skills, sized by weight", "역량 클라우드 (크기는 가중치)"),
    "level": ("Level", "수준"),
    "target": ("Target profile", "목표 프로필"),
    "show_gap": ("Show the gap", "격차 보기"),
    "gap_met": (
        "{met} of {total} skills at the wanted level.",
        "{total}개 중 {met}개 역량이 목표 수준입니다.",
    ),
    "missing": ("Missing", "부족한 역량"),
    "closed_by": ("Closed by", "해결 과정"),
    "hours": ("hours", "시간"),
    "programmes": ("Programmes", "과정 이수 현황"),
    "required_done": ("required done", "필수 이수"),
    "electives_done": ("electives done", "선택 이수"),
    "complete": ("complete", "이수 완료"),
    "learning_hours": ("Learning hours this year", "올해 학습 시간"),
    "hours_of": ("{hours} of {required} hours", "{required}시간 중 {hours}시간"),
    "no_skills": (
        "No skills yet: they come from valid badges.",
        "아직 역량이 없습니다. 유효한 배지에서 계산됩니다.",
    ),
    # emails
    "emails_title": ("Your emails", "내 이메일"),
    "primary": ("primary", "기본"),
    "verified": ("verified", "확인됨"),
    "unverified": ("not verified", "미확인"),
    "make_primary": ("Make primary", "기본으로 설정"),
    "remove": ("Remove", "삭제"),
    "add_email": ("Add an email", "이메일 추가"),
    "add_email_help": (
        "We send a link to the new address; open it here, signed in, to add it. Badges issued "
        "to it then appear in this wallet.",
        "새 주소로 링크를 보냅니다. 이 브라우저에서 로그인한 채로 열면 추가되고, 그 주소로 발급된 "
        "배지가 이 지갑에 나타납니다.",
    ),
    "confirm_email": ("Add {email} to my wallet", "{email}을(를) 내 지갑에 추가"),
    "email_added": ("{email} is now in your wallet.", "{email}이(가) 지갑에 추가되었습니다."),
    # profile
    "profile_title": ("Your public profile", "공개 프로필"),
    "profile_help": (
        "Off unless you publish it. It shows only the badges you choose.",
        "게시하기 전에는 공개되지 않으며, 고른 배지만 보여 줍니다.",
    ),
    "display_name": ("Name shown", "표시 이름"),
    "headline": ("Headline", "소개"),
    "address": ("Address (letters, digits, dashes)", "주소 (영문, 숫자, -)"),
    "publish": ("Published", "게시"),
    "save": ("Save", "저장"),
    "profile_at": ("Your profile is at", "프로필 주소"),
    "chosen_badges": ("Badges on the profile", "프로필에 표시할 배지"),
    # import / export / account
    "import_title": ("Import a badge", "배지 가져오기"),
    "import_help": (
        "A badge from any issuer: a JSON or JWT file, a baked PNG or SVG image, pasted text or "
        "a URL. It is verified as it comes in.",
        "어느 기관의 배지든 가져올 수 있습니다: JSON 또는 JWT 파일, 배지 PNG/SVG 이미지, 붙여넣은 "
        "텍스트, URL. 가져올 때 검증합니다.",
    ),
    "file": ("File", "파일"),
    "paste": ("Or paste it", "또는 붙여넣기"),
    "url": ("Or its URL", "또는 URL"),
    "import_button": ("Import", "가져오기"),
    "export_title": ("Export and your data", "내보내기와 내 데이터"),
    "export_zip": (
        "Download everything (zip: every badge, and a signed CLR 2.0 transcript)",
        "전체 내려받기 (zip: 모든 배지와 서명된 CLR 2.0 성적증명)",
    ),
    "data_json": ("Download my data (JSON)", "내 데이터 내려받기 (JSON)"),
    "badge_emails_title": ("Badge emails", "배지 알림 메일"),
    "badge_emails_on": (
        "You get an email when a badge is issued to you or revoked.",
        "배지가 발급되거나 취소되면 메일을 받습니다.",
    ),
    "badge_emails_off": (
        "You do not get emails about your badges.",
        "배지 알림 메일을 받지 않습니다.",
    ),
    "badge_emails_stop": ("Stop these emails", "메일 받지 않기"),
    "badge_emails_start": ("Email me about my badges", "배지 알림 메일 받기"),
    "badge_emails_saved": ("Saved.", "저장했습니다."),
    "unsubscribe_title": ("Badge emails", "배지 알림 메일"),
    "unsubscribe_help": (
        "Stop the emails Laurel sends when a badge is issued to you or revoked?",
        "배지가 발급되거나 취소될 때 보내는 메일을 그만 받으시겠습니까?",
    ),
    "unsubscribe_button": ("Unsubscribe", "수신 거부"),
    "unsubscribed": (
        "You will not get badge emails any more.",
        "더 이상 배지 알림 메일을 보내지 않습니다.",
    ),
    "unsubscribe_undo": (
        "Changed your mind? Your wallet's account page has the setting.",
        "마음이 바뀌셨나요? 지갑의 계정 페이지에서 다시 설정할 수 있습니다.",
    ),
    "delete_title": ("Delete my account", "계정 삭제"),
    "delete_help": (
        "Your emails, name, imported badges, links and profile are deleted. The issuers keep "
        "their records of what they issued, which no longer lead to you. This cannot be undone.",
        "이메일, 이름, 가져온 배지, 링크와 프로필이 삭제됩니다. 발급 기관은 발급 기록을 보관하지만 "
        "더는 본인과 연결되지 않습니다. 되돌릴 수 없습니다.",
    ),
    "delete_confirm": ("Type DELETE to confirm", "확인을 위해 DELETE를 입력하세요"),
    "delete_button": ("Delete my account", "계정 삭제"),
    "deleted": ("Your account was deleted.", "계정이 삭제되었습니다."),
    "error": ("Something needs fixing", "확인이 필요합니다"),
    # /verify: uploads that are too large
    "file_over": ("the file is over {mb} MB", "파일이 {mb}MB를 넘습니다"),
    "picture_too_many_pixels": (
        "This picture is {width}×{height} pixels, too many to read. Upload a smaller photo, or a "
        "crop around the QR code.",
        "이 사진은 {width}×{height} 픽셀로, 읽기에는 너무 큽니다. 더 작은 사진이나 QR 코드 "
        "부분만 자른 사진을 올려 주세요.",
    ),
    # dashboard
    "dashboard": ("Dashboard", "대시보드"),
    "dashboard_sign_in": ("Sign in to the issuer dashboard", "발급 기관 대시보드 로그인"),
    "api_key": ("API key (read scope)", "API 키 (read 권한)"),
    "api_key_help": (
        "Paste an API key of your institute; `laurel apikey create` makes one.",
        "기관의 API 키를 붙여넣으세요. `laurel apikey create`로 만들 수 있습니다.",
    ),
    "org_cloud": ("Skills of the organisation", "조직의 역량"),
    "group": ("Group", "그룹"),
    "everyone": ("Everyone", "전체"),
    "show": ("Show", "보기"),
    "learners": ("learners", "명"),
    "weight": ("Weight", "가중치"),
    "year_ago": ("A year ago", "1년 전"),
    "change": ("Change", "변화"),
    "rising": (
        "Rising skills the organisation is thin in",
        "중요도가 높아지지만 조직에 부족한 역량",
    ),
    "importance": ("importance now → future", "현재 → 미래 중요도"),
    "learner_gap": ("A learner against a target", "학습자와 목표 프로필 비교"),
    "no_learner": (
        "No learner with that email at this institute.",
        "이 기관에 그 이메일의 학습자가 없습니다.",
    ),
    "gap_chart_alt": (
        "Levels held (filled) and wanted (outlined) per skill",
        "역량별 보유 수준(채움)과 목표 수준(테두리)",
    ),
}

MESSAGES.update(CONSOLE)
MESSAGES.update(HOURS)
MESSAGES.update(PLANS)
MESSAGES.update(INFORMAL)
MESSAGES.update(ORGS)
MESSAGES.update(SKILLS)


def translator(lang: str) -> Callable[..., str]:
    index = 1 if lang == "ko" else 0

    def t(key: str, **values: object) -> str:
        english, korean = MESSAGES[key] if key in MESSAGES else WORDS[key]
        text = (korean or english) if index else english
        return text.format(**values) if values else text

    return t


OUTCOME_CLASSES = {
    "passed": "passed",
    "failed": "failed-o",
    "unknown": "unknown-o",
    "skipped": "skipped",
}


def check_items(checks: Iterable[Check], lang: str) -> Markup:
    """The ``<li>`` of each check of a report, for the list every verdict shows: its outcome, its
    name and reason in ``lang``, and the reason as the verifier gave it when that differs. Made
    here rather than in the template, each value through ``escape``: a loop of template calls
    cost a badge page ~80 µs (and ``Markup.format``, a formatter written in Python, more)."""
    t = translator(lang)
    warning = f' <span class="muted">{escape(t("warning_only"))}</span>'
    technical = f'<details class="tech"><summary>{escape(t("technical_detail"))}</summary>'
    items = []
    for check in checks:
        outcome = check.outcome.value
        said = check_reason(check, lang)
        detail = (
            ""
            if said == check.reason
            else f'{technical}<span lang="en">{escape(check.reason)}</span></details>'
        )
        items.append(
            f'\n    <li data-check="{escape(check.name)}"><span class="outcome '
            f'{OUTCOME_CLASSES[outcome]}">{escape(t("outcome_" + outcome))}</span> '
            f"<strong>{escape(check_name(check.name, lang))}</strong>"
            f"{'' if check.required else warning}: {escape(said)}{detail}</li>"
        )
    return Markup("".join(items))


def page_words(lang: str) -> dict[str, Any]:
    """What every page's template gets: the language, ``t(key)`` and the verdict helpers
    (``check_reason``, ``check_items``, ``when``, ``achievement_type``, …)."""
    return {
        "lang": lang,
        "t": translator(lang),
        "check_items": lambda checks: check_items(checks, lang),
        **words(lang),
    }
