"""Writes for workers and members, one module a family:

- ``sign_in``: log-in, bearer tokens, browser sessions, password change;
- ``throttle``: the growing delays after failed attempts;
- ``codes``: officers' one-time codes and SMS codes, activation, reset, reclaiming;
- ``signup``: registration and the profile;
- ``membership``: invite codes, invitations, roster imports;
- ``notices``: telling a holder what was done to their account;
- ``erasure``: deleting a worker's personal data;
- ``housekeeping``: forgetting stale records (``saidao accounts purge``).
"""

from .codes import (
    account_activate,
    account_recover,
    officer_code_purpose,
    one_time_code_issue,
    password_reset,
    password_reset_code_issue,
    phone_code_request,
    phone_code_use,
)
from .erasure import user_delete
from .housekeeping import account_records_purge
from .membership import (
    RosterImportResult,
    membership_invitation_accept,
    membership_invitation_decline,
    membership_join,
    roster_import,
    roster_import_start,
)
from .notices import account_notice_record, account_notices_take
from .sign_in import (
    api_token_issue,
    api_token_of_key,
    api_token_revoke,
    api_token_revoke_key,
    api_token_user,
    auth_login,
    password_change,
    sign_outs_everywhere,
    web_session_forget,
    web_session_record,
    web_session_revoke,
)
from .signup import profile_update, user_signup

__all__ = [
    "RosterImportResult",
    "account_activate",
    "account_notice_record",
    "account_notices_take",
    "account_records_purge",
    "account_recover",
    "api_token_issue",
    "api_token_of_key",
    "api_token_revoke",
    "api_token_revoke_key",
    "api_token_user",
    "auth_login",
    "membership_invitation_accept",
    "membership_invitation_decline",
    "membership_join",
    "officer_code_purpose",
    "one_time_code_issue",
    "password_change",
    "password_reset",
    "password_reset_code_issue",
    "phone_code_request",
    "phone_code_use",
    "profile_update",
    "roster_import",
    "roster_import_start",
    "sign_outs_everywhere",
    "user_delete",
    "user_signup",
    "web_session_forget",
    "web_session_record",
    "web_session_revoke",
]
