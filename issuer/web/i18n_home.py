"""The front door's words (``GET /``) in English and Korean, merged into ``i18n.MESSAGES``."""

from __future__ import annotations

HOME: dict[str, tuple[str, str]] = {
    "home_tagline": (
        "Open Badges 3.0: digital badges and certificates that anyone can check.",
        "오픈배지 3.0: 누구나 확인할 수 있는 디지털 배지와 수료증.",
    ),
    "home_intro": (
        "{service} issues and verifies Open Badges 3.0 credentials. Institutes issue badges "
        "here for the courses and programmes people complete; learners keep them in a wallet "
        "and share them; employers and anyone else check them, from any issuer.",
        "{service}은(는) 오픈배지 3.0 자격 증명을 발급하고 검증합니다. 기관은 이수한 과정과 "
        "프로그램에 대해 이곳에서 배지를 발급하고, 학습자는 지갑에 보관하고 공유하며, 고용주 "
        "등 누구나 어느 기관의 배지든 검증할 수 있습니다.",
    ),
    "home_issuers": ("Institutes issuing here", "이곳에서 발급하는 기관"),
    "home_verify_help": (
        "Upload a badge file (JSON, PNG or SVG) or a photo of the QR code on a certificate, or "
        "give a badge's link.",
        "배지 파일(JSON, PNG, SVG)이나 인증서의 QR 코드 사진을 올리거나 배지 링크를 입력하세요.",
    ),
    "home_verify_file": ("Badge file or QR code photo", "배지 파일 또는 QR 코드 사진"),
    "home_verify_url": ("Or the badge's link", "또는 배지 링크"),
    "home_verify_more": (
        "Paste a credential, or check it is someone's",
        "자격 증명 붙여넣기, 소지자 확인 등 다른 방법",
    ),
    "home_wallet_title": ("Your badges", "내 배지"),
    "home_wallet_help": (
        "Earned a badge here? Sign in to your wallet with your email to see, share and "
        "download your badges. We send you a link; no password needed.",
        "이곳에서 배지를 받으셨나요? 이메일로 지갑에 로그인해 배지를 보고, 공유하고, 내려받으세요. "
        "로그인 링크를 보내 드리며 비밀번호는 필요 없습니다.",
    ),
    "home_wallet_open": ("Open my wallet", "내 지갑 열기"),
    "home_staff_title": ("Staff", "기관 담당자"),
    "home_staff_help": (
        "Institute staff issue and revoke badges and see reports in the console.",
        "기관 담당자는 콘솔에서 배지를 발급·취소하고 보고서를 봅니다.",
    ),
    "home_staff_sign_in": ("Staff sign-in", "담당자 로그인"),
    "home_developers": ("Developers", "개발자"),
    "home_api_docs": ("API documentation", "API 문서"),
    "home_terms": ("Terms", "이용 약관"),
    "home_privacy": ("Privacy", "개인정보 처리방침"),
}
