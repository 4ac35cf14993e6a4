"""Database tables, one module per concept. Importing this package registers them all."""

from issuer.models.apikey import ApiKey
from issuer.models.audit import AuditEntry
from issuer.models.credential import Credential
from issuer.models.effect import PendingEffect
from issuer.models.exchange import WalletExchange
from issuer.models.informal import InformalClaim
from issuer.models.issuer import Achievement, Issuer, SigningKey
from issuer.models.job import BulkJob, BulkJobRow
from issuer.models.learner import Learner, LearnerDid, LearnerEmail
from issuer.models.notify import (
    IssuerMail,
    MailOptOut,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from issuer.models.oauth import OAuthClient, OAuthCode, OAuthToken
from issuer.models.obclient import ObConnection, ObHost, ObPush
from issuer.models.oid4vci import CredentialNonce, CredentialOffer
from issuer.models.org import (
    Organisation,
    OrgEquivalence,
    OrgMember,
    OrgTrust,
    OrgUnit,
    SharedCredential,
)
from issuer.models.plan import DevelopmentPlan, PlanActivity, PlanObjective
from issuer.models.skill import (
    CredentialSkill,
    LearnerGroup,
    SkillSpan,
    SkillSpanDay,
    SkillSpanLog,
    SkillSpanState,
)
from issuer.models.staff import AccessLogEntry, StaffInvitation, StaffMember
from issuer.models.statuslist import StatusList
from issuer.models.vcapi import VcapiCredential
from issuer.models.wallet import (
    ImportedCredential,
    PublicProfile,
    ShareLink,
    SignInLink,
    WebSession,
)
from issuer.models.xapi import XapiSettings

__all__ = [
    "AccessLogEntry",
    "Achievement",
    "ApiKey",
    "AuditEntry",
    "BulkJob",
    "BulkJobRow",
    "Credential",
    "CredentialNonce",
    "CredentialOffer",
    "CredentialSkill",
    "DevelopmentPlan",
    "ImportedCredential",
    "InformalClaim",
    "Issuer",
    "IssuerMail",
    "Learner",
    "LearnerDid",
    "LearnerEmail",
    "LearnerGroup",
    "MailOptOut",
    "OAuthClient",
    "OAuthCode",
    "OAuthToken",
    "ObConnection",
    "ObHost",
    "ObPush",
    "OrgEquivalence",
    "OrgMember",
    "OrgTrust",
    "OrgUnit",
    "Organisation",
    "PendingEffect",
    "PlanActivity",
    "PlanObjective",
    "PublicProfile",
    "ShareLink",
    "SharedCredential",
    "SignInLink",
    "SigningKey",
    "SkillSpan",
    "SkillSpanDay",
    "SkillSpanLog",
    "SkillSpanState",
    "StaffInvitation",
    "StaffMember",
    "StatusList",
    "VcapiCredential",
    "WalletExchange",
    "WebSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "XapiSettings",
]
