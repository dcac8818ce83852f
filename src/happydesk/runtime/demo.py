"""A demo workspace: mailboxes, agents, customers and ~1,000 realistic conversations over the last 90 days.

`happydesk demo` calls `load_demo()`. Everything is drawn from one `random.Random(seed)`, so the same seed
gives the same people, scenarios, thread shapes and relative timings (tokens and our Message-IDs stay
unguessable). History is written directly with `bulk_create`: replies are stored as already sent, no
outbox rows are created, so loading the demo never sends a single mail.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.community.demo import load_demo_community
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.inbox.models import Conversation, Mailbox, Message, Tag
from happydesk.inbox.services import (
    MAX_REFERENCES,
    mailbox_create,
    new_message_id,
    preview_text,
    reply_subject,
    standing_fields,
)
from happydesk.inbox.triage import reads_as_done
from happydesk.status.demo import load_demo_status

DEMO_ADMIN_EMAIL = "demo@happydesk.test"
DEMO_ADMIN_NAME = "Dana Demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published demo login
DEFAULT_CONVERSATIONS = 1000
HISTORY_DAYS = 90
MAILBOX_ZONE = "America/New_York"

# ---------------------------------------------------------------------------------------------------------
# Scenarios. Placeholders: {first} {name} {email} {alt_email} {company} {plan} {seats} {order} {invoice}
# {amount} {last4} {date} {browser} {os} {tracking} {device} {idp} {tz} {count} {refund} {street} {agent}.
# Agent replies get a greeting and sign-off added; `followups[i]` is the customer's answer to `replies[i]`.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One kind of support conversation: how the customer opens it and how it usually goes."""

    key: str
    mailbox: str  # "support" or "billing"
    tags: tuple[str, ...]
    subjects: tuple[str, ...]
    openings: tuple[str, ...]
    replies: tuple[str, ...]
    followups: tuple[str, ...]
    note: str = ""
    weight: float = 1.0


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        key="password-reset",
        mailbox="support",
        tags=("login", "account"),
        weight=2.5,
        subjects=("Password reset email never arrives", "Can't reset my password", "Reset link not working"),
        openings=(
            "I've tried to reset my password three times this morning but the email never shows up. I checked spam too. My login is {email}. Can you help? I have a client demo in an hour.",
            'When I click the reset link in your email I get "This link has expired", even though I clicked it straight away. I\'m using {browser} on {os}.',
        ),
        replies=(
            "Sorry about that! I can see the reset emails left our system, but your mail server deferred them, which usually means a spam filter on your side is holding them.\n\nI've just sent you a fresh link from a different sending address. If it still doesn't arrive within 5 minutes, could you ask your IT team to allow mail from notifications@acme-demo.test?",
            "Thanks for checking. I've sent a one-time sign-in link to {email} — it's valid for 30 minutes. Once you're in, you can set a new password under Profile → Security.",
            "Glad you're back in! Yes, two-factor is under Profile → Security → Two-factor authentication. Save the backup codes somewhere safe, like a password manager — they're your way in if you lose your phone.",
        ),
        followups=(
            "Still nothing, I'm afraid. Our IT person is out today. Is there any other way to get in?",
            "The sign-in link worked, I'm in. While I'm at it, can I turn on two-factor authentication?",
            "Done, two-factor is on and the codes are saved. Thanks!",
        ),
        note="Mail log shows 451 deferrals from the customer's mail server for all three reset emails. Not on our side.",
    ),
    Scenario(
        key="two-factor-lockout",
        mailbox="support",
        tags=("login", "account"),
        subjects=("Lost my phone — locked out by two-factor", "2FA codes not accepted"),
        openings=(
            "I got a new phone over the weekend and didn't move my authenticator app. Now I can't log in because it asks for the 6-digit code, and I don't have the backup codes either. What are my options?",
            "The two-factor codes from my authenticator app are rejected every time. I've tried maybe ten codes. Account is {email}.",
        ),
        replies=(
            "No problem, we can sort this out. For security we need to check it's you before removing two-factor: could you reply from {email} with the last four digits of the card on file and the approximate date of your last invoice?",
            "Thanks, that matches our records. I've removed two-factor from your account, so you can sign in with your password now. Please turn it back on under Profile → Security, and this time keep the backup codes somewhere safe.",
            "When codes are rejected right after setup, the phone's clock is usually the culprit: the codes depend on the exact time. On Android, open Google Authenticator → Settings → Time correction → Sync now. On iPhone, make sure Date & Time is set automatically.",
        ),
        followups=(
            "Card ends in {last4}, last invoice was around {date}.",
            "I'm in, thanks. I turned two-factor back on, but the new codes from the app are rejected as well?",
            "That was it — the phone's clock was two minutes off. All good now, thank you!",
        ),
    ),
    Scenario(
        key="export-csv",
        mailbox="support",
        tags=("export",),
        weight=2.0,
        subjects=(
            "How do I export all my data to CSV?",
            "CSV export only gives me 1,000 rows",
            "Export to Excel",
        ),
        openings=(
            "We need to pull all of last quarter's records into a spreadsheet for our finance team. I found the Export button on the Reports page but it only exports what's on screen. Is there a way to export everything to CSV?",
            "When I export the Contacts list to CSV I only get the first 1,000 rows, but we have around {count},000 contacts. Am I doing something wrong?",
        ),
        replies=(
            "Good question! The Export button on a page exports the current view. For everything, go to Settings → Data → Full export and pick CSV. We'll email you a download link when it's ready — for accounts your size that's usually under 10 minutes.\n\nIf you only need a date range, set the filter first and then use Export → \"All matching rows\".",
            'The file comes as a .zip because of its size; inside is a single UTF-8 CSV. If Excel shows odd characters, open it with Data → From Text/CSV and choose "65001: Unicode (UTF-8)" as the encoding instead of double-clicking the file.',
            "Scheduled exports are included in the {plan} plan: under Settings → Data → Scheduled exports you can send a CSV every Monday to any address, a shared drive or an S3 bucket. Let me know if you'd like a hand setting it up.",
        ),
        followups=(
            "Found it, thanks. The file I got is a .zip though, and when I open the CSV in Excel the accented names look broken (Ã© instead of é).",
            "The UTF-8 import fixed it. Is there a way to get this export automatically every week?",
            "Set up the weekly export to our shared drive. Perfect, thanks!",
        ),
    ),
    Scenario(
        key="api-rate-limit",
        mailbox="support",
        tags=("integrations", "api"),
        subjects=("Getting 429 Too Many Requests from the API", "API rate limit for our nightly sync"),
        openings=(
            'Our nightly sync started failing last night with HTTP 429 "Too Many Requests". We haven\'t changed anything on our side. We make roughly {count},000 requests in a few minutes. What are the limits, and can they be raised?',
        ),
        replies=(
            "Thanks for the detail. The API allows 600 requests per minute per token, with short bursts up to 100 per second. Last night your token peaked at about 1,400 requests per minute, which is why you saw 429s.\n\nEvery 429 response carries a Retry-After header: if your client waits that many seconds before retrying, the sync will finish without errors. The bulk endpoint (POST /api/v2/records/bulk) also takes up to 500 records per call, which would cut your request count a lot.",
            "I've talked to our platform team: we've raised your token to 1,200 requests per minute for the next 30 days while you move to the bulk endpoint. It's live now. I'd still honour Retry-After, since limits can tighten during incidents.",
            "Webhooks are the better fit for that. Instead of polling for changes, subscribe to record.updated under Settings → Developers → Webhooks and we'll push each change to you within seconds.",
        ),
        followups=(
            "We'll switch to the bulk endpoint, but that's a bigger change. Any chance of a temporary higher limit while we do?",
            "Thanks, the sync ran clean tonight. Longer term, we mostly poll for changes every 5 minutes — is there a better way?",
            "Webhooks look perfect. We'll move over next sprint. Thanks for the help!",
        ),
        note="Token peaked at ~1.4k rpm. Raised to 1,200 rpm until the end of next month — remember to reset.",
    ),
    Scenario(
        key="chart-bug",
        mailbox="support",
        tags=("bug",),
        weight=1.5,
        subjects=(
            "Dashboard charts are blank (screenshots attached)",
            "Bug: graphs don't load since yesterday",
        ),
        openings=(
            "Since yesterday afternoon the charts on our main dashboard are empty — just the axes, no data. The numbers in the table below are fine. I've attached two screenshots. Happens in {browser} on {os}, and my colleague sees the same.",
        ),
        replies=(
            'Thanks for the screenshots, that helps a lot. I can reproduce this on dashboards that use a custom date range ending "today", and I\'ve passed it to our engineers with your examples.\n\nAs a workaround, setting the range to "Last 30 days" instead of a custom range shows the data correctly.',
            "Quick update: the engineers found the cause. A change in how we handle time zones cut off the series for some date ranges. The fix is being deployed this afternoon.",
            "The fix is live. Could you reload the dashboard (Ctrl+Shift+R to skip the cache) and let me know if the charts are back?",
        ),
        followups=(
            "The workaround does show data, thanks. Do you know when it will be fixed? Our weekly review is on Thursday.",
            "Thanks for keeping me posted.",
            "All charts are back. Thanks for the fast turnaround!",
        ),
        note="Reproduced on staging with a custom range ending today + account TZ {tz}. Filed as BUG-{count}12 with both screenshots.",
    ),
    Scenario(
        key="dark-mode",
        mailbox="support",
        tags=("feature-request",),
        subjects=("Feature request: dark mode", "Any plans for a dark theme?"),
        openings=(
            "Love the product, but I work late and the bright white interface is hard on the eyes. Is a dark mode on the roadmap? Would happily beta test it.",
        ),
        replies=(
            "Thanks for the kind words and for the suggestion! Dark mode is one of our most requested features and it's on the roadmap for this year. I've added your vote and noted that you'd like to beta test — you'll get an email when the beta opens.",
            "Not yet for the mobile app either, I'm afraid — it will follow the web version. I've noted that too.",
        ),
        followups=(
            "Great, thanks! Does the mobile app follow the system dark setting at least?",
            "OK, looking forward to it.",
        ),
    ),
    Scenario(
        key="shipping-delay",
        mailbox="support",
        tags=("shipping",),
        weight=2.0,
        subjects=("Where is my order {order}?", "Order {order} hasn't arrived", "Shipping delay on {order}"),
        openings=(
            "I ordered two {device} units on {date} (order {order}) with express shipping. The tracking page hasn't updated in four days and still says \"Label created\". Can you tell me what's going on?",
            "My order {order} was supposed to arrive last Friday and I still don't have it. This is for a customer installation so I'm getting a bit anxious.",
        ),
        replies=(
            "I'm sorry for the wait. I checked with our warehouse: your order was packed but missed the courier pickup because of a label printer fault, so the tracking never updated. It's been re-labelled and handed to the courier today.\n\nNew tracking number: {tracking}. It should arrive within 2 business days. I've also refunded the express shipping fee, since we didn't keep that promise.",
            "The courier shows it out for delivery today. If it hasn't turned up by tomorrow evening, reply here and I'll send a replacement right away — no need to wait for an investigation.",
        ),
        followups=(
            "Thanks for the refund. Tracking now shows it in transit, but the estimate says Thursday. Any way to speed it up?",
            "It arrived this morning. Thanks for following up.",
        ),
    ),
    Scenario(
        key="sso-setup",
        mailbox="support",
        tags=("login", "integrations", "onboarding"),
        subjects=("SSO setup with {idp}", "SAML configuration help", "Single sign-on for our team"),
        openings=(
            "We're rolling out single sign-on across all our tools and want to connect your app to {idp}. Do you support SAML, and where do I find the ACS URL and entity ID?",
            'I\'m trying to set up SAML with {idp} and get "Invalid signature" when I test the login. I uploaded the certificate from {idp}. What am I missing?',
        ),
        replies=(
            "Yes, SAML single sign-on is included in the {plan} plan. Everything is under Settings → Security → Single sign-on:\n\n- ACS URL: https://app.acme-demo.test/sso/saml/acs\n- Entity ID: https://app.acme-demo.test/sso/saml/metadata\n\nIn {idp}, create a SAML app with those two values and map the email attribute to NameID, then paste the IdP metadata URL back into our settings. Our guide has screenshots: https://help.acme-demo.test/sso",
            '"Invalid signature" almost always means the certificate we have isn\'t the one {idp} signs with. {idp} rotates to a new certificate when the app is re-saved, so the one you downloaded may be stale. Could you paste the metadata URL instead of uploading the certificate? Then we fetch the current certificate automatically.',
            "Great. One recommendation before you enforce SSO for everyone: keep one admin with a password login as a break-glass account, in case {idp} ever has an outage. You can mark it under Settings → Security → Break-glass admins.",
        ),
        followups=(
            'Done, but the test login fails with "Invalid signature".',
            "Using the metadata URL fixed it — the test login works. Can we now force everyone to use SSO?",
            "Makes sense, I've set that up. Thanks for the thorough help!",
        ),
        note="IdP is {idp}; their certificate was rotated on their side, the metadata URL is the fix. Worth adding to the SSO guide.",
    ),
    Scenario(
        key="invite-expired",
        mailbox="support",
        tags=("onboarding", "account"),
        subjects=("Invitation link expired", "New teammate can't accept the invite"),
        openings=(
            'I invited a new colleague last week, but when she clicks the link in the invitation she gets "This invitation has expired". Can you resend it or extend it?',
        ),
        replies=(
            'Invitations are valid for 7 days, so that one has run out. You can resend it yourself under Settings → Team: find her in the Pending list and click "Resend". I\'ve gone ahead and resent it for you this time.',
            "If the invite is held by a spam filter, it's worth adding invites@acme-demo.test to your allowed senders. Alternatively she can sign up at app.acme-demo.test/join with her work email — since your domain is verified, she'll join your team automatically.",
        ),
        followups=(
            "Thanks! She says she doesn't see the new email though.",
            "Found it in quarantine. She's in now — thanks!",
        ),
    ),
    Scenario(
        key="slack-integration",
        mailbox="support",
        tags=("integrations", "bug"),
        subjects=("Slack notifications stopped", "Slack integration not posting anymore"),
        openings=(
            'Our Slack channel used to get a message for every new signup, but nothing has come through since {date}. The integration still shows as "Connected" in settings.',
        ),
        replies=(
            'Thanks for reporting this. Looking at the logs, Slack started rejecting our messages to that channel on {date} with "channel_not_found" — usually that means the channel was renamed, archived or made private.\n\nIf it\'s private now, the Acme app needs to be invited: type /invite @Acme in the channel.',
            'Messages are being delivered again. We\'re also changing the integration page so it shows a warning instead of "Connected" when Slack rejects messages. Sorry for the confusion.',
        ),
        followups=(
            "Ah, someone converted it to a private channel. I've invited the app. Should work now?",
            "Yes, we're getting notifications again. Thanks!",
        ),
    ),
    Scenario(
        key="zapier-401",
        mailbox="support",
        tags=("integrations",),
        subjects=("Zapier zap failing with 401", "Zap to Google Sheets stopped working"),
        openings=(
            "Our Zap that creates a row in Google Sheets for each new order stopped working. Zapier says the trigger returns 401 Unauthorized. Did something change on your side?",
        ),
        replies=(
            'Nothing changed on our side, but the API token the Zap uses was revoked on {date} by someone on your team (it was named "zapier-old"). Zapier keeps using the old token until you reconnect.\n\nIn Zapier, go to My Apps → Acme → Reconnect and sign in again. That creates a fresh token.',
            "The Zap won't replay missed events by itself, but you can backfill them: export the orders since {date} to CSV and paste them into the sheet. Sorry there's no one-click option for that.",
        ),
        followups=(
            "Reconnected, it works again. Can I get the orders from the days it was broken into the sheet?",
            "OK, the export did the trick. Thanks.",
        ),
    ),
    Scenario(
        key="import-csv",
        mailbox="support",
        tags=("onboarding", "import"),
        subjects=(
            "Import from spreadsheet fails",
            "Can't import our customer list",
            "CSV import error: invalid date",
        ),
        openings=(
            "I'm trying to import our customer list (about {count},000 rows) from a CSV exported from our old system. The import stops with \"Error on row 412: invalid date\". The dates look fine to me, they're like 03/04/2023.",
        ),
        replies=(
            'That date is the problem, actually: 03/04/2023 is ambiguous — March 4 in the US, 3 April in most other places. The importer expects ISO dates (2023-04-03) unless told otherwise. In the import screen, open "Advanced", set the date format to DD/MM/YYYY or MM/DD/YYYY to match your file, and try again.',
            "The importer matches existing contacts by email, so re-running it won't duplicate them; it updates rows that already exist. Rows without an email are always created new, so those are the ones to check.",
            "Done — I've merged the duplicate contacts that came in without emails. In each case I kept the oldest record and moved the notes over.",
        ),
        followups=(
            "Setting DD/MM/YYYY worked, but the first attempt stopped halfway. If I run it again, will I get duplicates?",
            "Hmm, quite a few of ours have no email, and some duplicates got created on the first run. Can you clean those up?",
            "Everything looks right now. Thanks for going the extra mile.",
        ),
    ),
    Scenario(
        key="change-email",
        mailbox="support",
        tags=("account",),
        subjects=("Change my login email", "Update account email address"),
        openings=(
            "Our company changed its domain, so I need to change my login from {email} to {alt_email}. How do I do that without losing my data?",
        ),
        replies=(
            "Easy to do, and nothing is lost: your data belongs to the account, not the address. Go to Profile → Account → Email, enter {alt_email} and confirm with your password. We'll send a confirmation link to the new address; the change applies once you click it.",
            "Since your whole company is moving, an admin can change everyone at once under Settings → Team → Change domain. It rewrites all addresses on the old domain and lets each person know.",
        ),
        followups=(
            "Got it. Is there a way to do this for everyone on our team instead of one at a time?",
            "Done, that saved us a lot of time.",
        ),
    ),
    Scenario(
        key="gdpr-delete",
        mailbox="support",
        tags=("account", "privacy"),
        subjects=("Please delete my account and data", "GDPR data deletion request"),
        openings=(
            "I no longer use your service. Under GDPR, please delete my account and all personal data you hold about me. My account email is {email}.",
        ),
        replies=(
            "Sorry to see you go. To confirm the request comes from the account owner, I've sent a confirmation link to {email}. Once you click it, we delete the account right away and remove your data from backups within 30 days.\n\nIf you'd like a copy of your data first, download it under Settings → Data → Full export before confirming.",
            "I can confirm the deletion is complete. The only thing we keep is the invoices, which the law requires us to retain for 10 years; they're not used for anything else.",
        ),
        followups=(
            "Confirmed via the link. Do you keep anything after deletion?",
            "Understood, thank you for handling it quickly.",
        ),
    ),
    Scenario(
        key="android-crash",
        mailbox="support",
        tags=("bug", "mobile"),
        subjects=("Android app crashes on start", "App keeps closing on my phone"),
        openings=(
            "Since the last update the Android app crashes as soon as I open it. I've restarted my phone and reinstalled the app, same thing. Phone is a Pixel 7 on Android 14.",
        ),
        replies=(
            "Thanks for the details, and sorry about the crashes. We've had a few reports from Pixel users after version 5.12, and our crash logs point to a problem reading the saved offline data.\n\nCould you try Settings → Apps → Acme → Storage → Clear storage, then open the app and sign in again? That removes the offline copy only; nothing in your account is affected.",
            "Version 5.12.1 with the fix is rolling out in the Play Store today. It can take a few hours to reach everyone.",
        ),
        followups=(
            "Clearing storage worked. Will it happen again with the next update?",
            "Updated, all good.",
        ),
    ),
    Scenario(
        key="too-many-emails",
        mailbox="support",
        tags=("account", "notifications"),
        subjects=("Way too many notification emails", "How do I stop the daily emails?"),
        openings=(
            "I'm getting an email for every single comment on every project, probably 80 a day. I only want to hear about things assigned to me. How do I turn the rest off?",
        ),
        replies=(
            'I hear you! Under Profile → Notifications, choose "Only things assigned to me or where I\'m mentioned". You can also switch to a daily digest that bundles everything else into one email at 8:00 your time.',
            "That's the workspace default, which admins can change under Settings → Notifications → Defaults for new members. Existing members keep their own choice.",
        ),
        followups=(
            "Perfect. Can I make that the default for my whole team?",
            "Done, thanks.",
        ),
    ),
    Scenario(
        key="scheduled-reports",
        mailbox="support",
        tags=("feature-request", "export"),
        subjects=("Feature request: scheduled reports by email", "Can reports be emailed automatically?"),
        openings=(
            "Every Monday I export the same three reports and email them to our managers. It would save me an hour a week if the app could send them automatically. Is that possible?",
        ),
        replies=(
            "Not as a built-in feature yet, but you're not the first to ask and I've added your vote. In the meantime there's a workaround: each report has a share link under Share → \"Anyone with the link\", which always shows live data. Some customers send that link once instead of weekly exports.",
            "Good news: scheduled reports just shipped in beta, and I've enabled it for your workspace. Open any report and you'll see \"Schedule\" next to Share. Feedback very welcome!",
        ),
        followups=(
            "The link is a decent stopgap, thanks. Please let me know if scheduling ever ships!",
            "Just set up all three. This is exactly what I wanted, thank you!",
        ),
    ),
    Scenario(
        key="slow-dashboard",
        mailbox="support",
        tags=("bug", "performance"),
        subjects=("Dashboard very slow to load", "App is extremely slow today"),
        openings=(
            "The main dashboard takes 20-30 seconds to load this morning for everyone in our office. Other sites are fast. Is there an outage?",
        ),
        replies=(
            'Thanks for letting us know. There\'s no general outage, but your dashboard loads 14 widgets, and two of them ("All-time revenue" and "Lifetime cohorts") query your full history. Those became slow once your data passed a million rows.\n\nCould you set those two to "Last 12 months"? That should bring the load time under 3 seconds.',
            "We've also added an index on our side that speeds up all-time queries for large accounts, so you can switch them back now.",
        ),
        followups=(
            "That made a huge difference, down to about 2 seconds. But our CFO wants the all-time numbers.",
            "Switched back, and it's still fast. Nice work.",
        ),
        note="Workspace has ~1.2M rows; all-time widgets did full scans. Eng added the index on {date}.",
    ),
    Scenario(
        key="damaged-item",
        mailbox="support",
        tags=("shipping", "refund"),
        subjects=("Item arrived damaged", "Broken {device} in order {order}"),
        openings=(
            "My order {order} arrived today but the box was crushed and the {device} has a cracked case. It powers on, but I don't trust it outdoors like this. Photo attached. What can you do?",
        ),
        replies=(
            "I'm really sorry — that's not the first impression we want to make. I've sent a replacement by express shipping today (tracking {tracking}); no need to wait for anything from your side.\n\nYou'll also get a prepaid return label for the damaged unit by email. There's no rush: send it back within 30 days.",
            "Of course — if you'd rather not deal with the return, just recycle it locally. I've cancelled the return label, so there's nothing more to do.",
        ),
        followups=(
            "Thanks, that's great service. Honestly the return is a hassle for me — is it really needed?",
            "Replacement arrived and works perfectly. Thanks!",
        ),
    ),
    Scenario(
        key="wrong-item",
        mailbox="support",
        tags=("shipping",),
        subjects=("Wrong item in my order", "Received the wrong model"),
        openings=(
            "I ordered the {device} with the outdoor mount (order {order}) but received the indoor version without a mount. Can you send the right one?",
        ),
        replies=(
            "Apologies for the mix-up! I've sent the correct outdoor kit today by express, tracking {tracking}. Please keep the indoor unit until the new one arrives; we'll email a return label for it after.",
            "Of course: you can keep the indoor unit at 50% off, which comes to {amount}. I've put a payment link under Settings → Billing → Open payments; once it's paid, just ignore the return label.",
        ),
        followups=(
            "Thanks. Actually, could I keep the indoor one too? I might use it in the office.",
            "Paid. Thanks for sorting this out so nicely!",
        ),
    ),
    Scenario(
        key="change-shipping-address",
        mailbox="support",
        tags=("shipping",),
        subjects=("Change delivery address for order {order}", "Wrong shipping address on my order"),
        openings=(
            "I just placed order {order} and realised it's going to my old address. Can you change it to my office, {street}?",
        ),
        replies=(
            "Caught it in time! The order hadn't been packed yet, so I've changed the delivery address to {street}. You'll get a new confirmation email in a few minutes.",
        ),
        followups=("Thank you so much, you saved me a trip!",),
    ),
    Scenario(
        key="customs-fees",
        mailbox="support",
        tags=("shipping", "billing"),
        subjects=("Unexpected customs fees", "Had to pay import duties on delivery"),
        openings=(
            'The courier asked me to pay import duties before delivering order {order}. Your checkout said "duties included". I paid to get the package, but I\'d like the fee refunded.',
        ),
        replies=(
            "You're right, and I'm sorry: to your country we ship duties paid, so you shouldn't have been charged — the courier billed you in error. Please send a photo or PDF of the receipt they gave you, and I'll refund the amount directly and chase the courier myself.",
            "Thanks, received. I've refunded the duties to your original payment method; it should show within 3-5 business days.",
        ),
        followups=(
            "Receipt attached. It came to about {amount}.",
            "Thanks, I see it. Much appreciated.",
        ),
    ),
    Scenario(
        key="device-pairing",
        mailbox="support",
        tags=("bug", "hardware"),
        weight=1.5,
        subjects=("{device} won't pair", "Can't connect my sensor to the app"),
        openings=(
            'I\'m trying to add a new {device} in the app. It finds the device, but pairing fails at "Connecting to Wi-Fi" every time. Other devices on the same network work fine.',
        ),
        replies=(
            "Let's get it connected. The most common cause is a 5 GHz-only network — the {device} needs 2.4 GHz. If your router combines both under one name, turn off 5 GHz during setup or use a 2.4 GHz guest network.\n\nAlso make sure the Wi-Fi password doesn't contain a backslash; firmware before 2.3 has a bug with that.",
            "That error means the device joined your network but couldn't reach our servers. Some company networks block outgoing MQTT; the {device} needs outbound TCP port 8883 to sensors.acme-demo.test. Could your IT team check the firewall?",
            "Firmware 2.4.1 falls back to port 443 when 8883 is blocked, so you won't need a firewall change. It installs overnight once the device is online, or you can start it from the device page under Firmware → Update now.",
        ),
        followups=(
            'It\'s a 2.4 GHz network, and no backslash. Now it gets further and says "Cloud connection failed".',
            "IT says they can't open that port. Any alternative?",
            "Updated and online. Thanks for the patience!",
        ),
        note="Customer network blocks 8883. Pointed them to 2.4.1 with the port 443 fallback.",
    ),
    Scenario(
        key="onboarding-call",
        mailbox="support",
        tags=("onboarding",),
        subjects=("Onboarding session for our team", "Can we get a walkthrough?"),
        openings=(
            "We just signed up for the {plan} plan and have {seats} people starting to use the app next week. Do you offer an onboarding call to walk the team through the basics?",
        ),
        replies=(
            "Welcome aboard! Yes — the {plan} plan includes a free 45-minute onboarding session. Pick a time that suits you here: https://acme-demo.test/onboarding. It's best if the people who'll set things up join; we record the session so others can watch later.",
            "Booked, see you then! Before the call it helps to import a sample of your real data, so we can show things on your own records instead of a demo account. Our import guide: https://help.acme-demo.test/import",
        ),
        followups=(
            "Booked for Tuesday at 10. Anything we should prepare?",
            "Will do, thanks.",
        ),
    ),
    Scenario(
        key="roles-permissions",
        mailbox="support",
        tags=("account",),
        subjects=("User roles and permissions", "How to restrict access for contractors"),
        openings=(
            "We're bringing in two contractors and want them to see only one project, not our whole workspace. Is that possible with your roles?",
        ),
        replies=(
            "Yes: invite them as Guests. Guests only see the projects you add them to, can't see the member list, and don't count towards your seats. Invite them under Settings → Team → Invite with the role \"Guest\", then add them from the project's Members tab.",
            'Guests can export data in the projects they can see, unless you turn off "Guests can export" under Settings → Security. I\'d switch that off for contractors.',
        ),
        followups=(
            "Great. Can guests export data? That's a concern for us.",
            "Switched off. Thanks for the tip.",
        ),
    ),
    Scenario(
        key="timezone-reports",
        mailbox="support",
        tags=("bug",),
        subjects=("Reports show the wrong time zone", "Times are off by hours in reports"),
        openings=(
            "All the times in our weekly report are off by several hours — things that happened at 9 am show up at 2 pm. Our workspace time zone is set correctly to {tz}.",
        ),
        replies=(
            "Thanks for flagging. Reports use the time zone of the person viewing them, from their profile, not the workspace setting. Could you check Profile → Preferences → Time zone? If it says UTC, that explains the difference.",
            "I agree it's confusing and I've raised it with the product team. Meanwhile an admin can set everyone's profile zone in one step under Settings → Team → Bulk edit.",
        ),
        followups=(
            "Yes, mine was on UTC. Fixed. But shouldn't it default to the workspace zone?",
            "Done for the whole team. Thanks.",
        ),
    ),
    Scenario(
        key="api-key-leak",
        mailbox="support",
        tags=("integrations", "security"),
        subjects=("URGENT: API key accidentally published", "Leaked API token on GitHub"),
        openings=(
            "One of our developers accidentally pushed an API token to a public GitHub repository about an hour ago. We've deleted the commit, but I want to make sure the token is dead. What should we do?",
        ),
        replies=(
            "Thanks for telling us so quickly. I've revoked the token from our side, so it can't be used any more. Please create a new one under Settings → Developers → API tokens and update your integration.\n\nI also checked the access logs: in the last hour the token was used from your usual office address and from one other, which made a single read request to /api/v2/me. No data was changed.",
            "That second request came from GitHub's secret scanning, which checks leaked tokens with us — it's also how we spotted it. To make any future leak harmless outside your network, turn on \"Restrict tokens to IP ranges\" under Settings → Security.",
        ),
        followups=(
            "New token in place. That second address worries me, can we prevent this in future?",
            "IP restriction enabled. Thanks for the fast response.",
        ),
        note="Second IP was GitHub's secret-scanning check. No data access beyond /me.",
    ),
    Scenario(
        key="webhook-signature",
        mailbox="support",
        tags=("integrations", "api"),
        subjects=("Verifying webhook signatures", "Webhook signature doesn't match"),
        openings=(
            "We verify the X-Acme-Signature header on incoming webhooks, but our HMAC never matches. We use the webhook secret from the settings page and SHA-256. What are we doing wrong?",
        ),
        replies=(
            'The usual culprit is the body: the signature covers the raw request bytes exactly as sent. Many frameworks parse the JSON and serialise it again, which changes spacing and key order. Compute the HMAC on the raw body before any parsing.\n\nAlso, the header value starts with "sha256=", so compare against the part after the prefix.',
            'For replays: each webhook carries X-Acme-Timestamp, and the signature covers "timestamp.body". Reject anything older than 5 minutes and you\'re covered.',
        ),
        followups=(
            "It was the re-serialisation, works now. Is there anything to protect against replays?",
            "Perfect, implemented. Thanks!",
        ),
    ),
    Scenario(
        key="sheets-integration",
        mailbox="support",
        tags=("feature-request", "integrations"),
        subjects=("Google Sheets integration?", "Feature request: sync to Google Sheets"),
        openings=(
            "Is there a native Google Sheets integration? We'd like a live copy of our records in a sheet for people who don't have an account.",
        ),
        replies=(
            "Not natively yet — it's on our list and I've added your vote. Today customers do this with our Zapier or Make integrations (new or updated record → update row), or with a scheduled CSV export into Google Drive.",
            "It's planned for next quarter, but I can't promise a date. I'll make sure you hear from us when it's available.",
        ),
        followups=(
            "We'd rather not add Zapier just for this. Any timeline for the native one?",
            "OK, thanks for being straight with me.",
        ),
    ),
    Scenario(
        key="pdf-export",
        mailbox="support",
        tags=("export", "bug"),
        subjects=("PDF export cuts off tables", "Exported PDF is missing columns"),
        openings=(
            "When I export a report to PDF, the right-hand columns are cut off. The report has 11 columns and looks fine on screen. I've tried both A4 and Letter.",
        ),
        replies=(
            "Thanks for the report. PDF export doesn't shrink wide tables yet, so anything past about 8 columns is cut. Two workarounds: choose \"Landscape\" in the export dialog, which fits up to 12 columns, or hide the columns you don't need with the column picker first.",
            'Agreed, it should at least warn you. I\'ve logged it as a bug, and "Fit to page width" is planned for the next release.',
        ),
        followups=(
            "Landscape works. Would be nice if it did that automatically or at least warned.",
            "Thanks!",
        ),
    ),
    Scenario(
        key="session-logout",
        mailbox="support",
        tags=("login", "bug"),
        subjects=("Keeps logging me out", "Session expires every few minutes"),
        openings=(
            "For the past two days I get logged out every 5-10 minutes, in the middle of editing. It's very frustrating. I'm on {browser} on {os}.",
        ),
        replies=(
            "Sorry, that is frustrating. Your workspace signs people out after 15 minutes of inactivity (an admin set that on {date}), but you're being signed out while active, which shouldn't happen.\n\nCould you check whether a browser extension blocks or clears cookies for app.acme-demo.test? Privacy extensions sometimes delete our session cookie.",
            "Good to hear! You can add app.acme-demo.test to the extension's allow list, so you keep its protection everywhere else.",
        ),
        followups=(
            "It was my new privacy extension. Turned it off for your site and it's fine now.",
            "Already done. Thanks for the help.",
        ),
    ),
    Scenario(
        key="charged-twice",
        mailbox="billing",
        tags=("billing", "refund"),
        weight=2.5,
        subjects=("Charged twice this month", "Double charge on my card", "Duplicate payment"),
        openings=(
            "I've been charged twice for our {plan} subscription this month — two payments of {amount} on {date}, both on the card ending {last4}. Please refund one of them.",
            "My bank statement shows two identical charges of {amount} from you on {date}. We only have one subscription. What happened?",
        ),
        replies=(
            "I'm sorry about that! You're right: a payment retry on our side charged your card a second time after the first payment had already gone through. I've refunded the duplicate {amount} just now. Refunds take 5-10 business days to show, depending on your bank.",
            "Here's the refund reference your bank can use to trace it: re_{refund}. Your next invoice will be on the usual date for the usual amount.",
            "I've checked the next renewal and there's only one scheduled charge. We've also fixed the retry bug that caused this.",
        ),
        followups=(
            "Thanks. My bank says they can't see the refund yet. Is there a reference number?",
            "Got it, thanks. Can you make sure it doesn't happen again next month?",
            "Great, thank you.",
        ),
        note="Stripe shows two succeeded charges of {amount} on {date}; the duplicate came from the retry job. Refunded.",
    ),
    Scenario(
        key="cancel-subscription",
        mailbox="billing",
        tags=("billing", "account"),
        weight=2.0,
        subjects=("Cancel my subscription", "Please cancel our plan", "How do I cancel?"),
        openings=(
            "Please cancel our {plan} subscription at the end of the current billing period. We've moved to a different tool internally. Thanks for everything.",
            "How do I cancel? I can't find a cancel button anywhere in the billing settings.",
        ),
        replies=(
            "Sorry to see you go! I've set your subscription to end with the current period. You'll keep full access until then and won't be charged again.\n\nIf you don't mind sharing: was there anything we could have done better? It goes straight to our product team.",
            "Your data stays available for 90 days after the subscription ends, so you can export it anytime in that window under Settings → Data → Full export. After that we delete it permanently.",
        ),
        followups=(
            "Mostly we needed deeper integration with our CRM. What happens to our data after cancellation?",
            "Perfect, thank you for the smooth process.",
        ),
    ),
    Scenario(
        key="invoice-address",
        mailbox="billing",
        tags=("billing", "invoice"),
        weight=1.5,
        subjects=(
            "Change invoice address",
            "Invoice needs our VAT number",
            "Update billing details on {invoice}",
        ),
        openings=(
            "Our company moved offices and accounts payable needs the new address on invoices: {street}. Could you also add our VAT number? And can invoice {invoice} be reissued with the new details?",
        ),
        replies=(
            "Of course. You can change the billing address and VAT number yourself under Settings → Billing → Company details; they're used from the next invoice on.\n\nI've reissued {invoice} with the new details — the corrected PDF is attached. With a valid EU VAT number, future invoices won't include VAT (reverse charge).",
            "Yes: under Settings → Billing → Invoice recipients you can add any address, and every invoice will be sent there as well.",
        ),
        followups=(
            "Thanks! Can invoices go straight to our accounts team instead of to me?",
            "Added, thank you.",
        ),
    ),
    Scenario(
        key="refund-annual",
        mailbox="billing",
        tags=("billing", "refund"),
        subjects=("Refund for annual plan", "Refund request — renewed by mistake"),
        openings=(
            "Our annual {plan} subscription renewed yesterday for {amount}. We meant to cancel before the renewal, since the project ended. Is a refund possible?",
        ),
        replies=(
            "Thanks for reaching out quickly. Since the renewal was less than 14 days ago and the account hasn't been used since, I can refund it in full. I've issued the refund of {amount} and cancelled the subscription.",
            "Yes — your data stays for 90 days, and you can reactivate anytime in that window with everything intact.",
        ),
        followups=(
            "Thank you, that's very fair. Will our data still be there if we come back?",
            "Good to know, thanks again.",
        ),
    ),
    Scenario(
        key="upgrade-proration",
        mailbox="billing",
        tags=("billing",),
        subjects=("Upgrading mid-cycle — how is it billed?", "Question about a plan upgrade"),
        openings=(
            "We'd like to upgrade from Starter to the {plan} plan now, but we're halfway through our billing month. Will we pay for the full month twice?",
        ),
        replies=(
            "No, you only pay the difference for the remaining days. If you upgrade today you'll see a one-off prorated charge of roughly {amount}, and from the next billing date the regular {plan} price.",
            "Yes, you can switch to annual billing at the same time and get two months free. The prorated credit for this month carries over.",
        ),
        followups=(
            "Makes sense. Could we switch to yearly billing at the same time?",
            "Upgraded to annual. Thanks!",
        ),
    ),
    Scenario(
        key="payment-failed",
        mailbox="billing",
        tags=("billing",),
        weight=1.5,
        subjects=("Payment failed — card declined", "Your payment didn't go through?"),
        openings=(
            "I got an email saying our payment failed and the account will be suspended. The card ending {last4} is valid and has funds. What's going on?",
        ),
        replies=(
            'Not to worry, we won\'t suspend anything while we sort this out. The bank declined the charge with "do_not_honor", their generic code; often it\'s a fraud check on recurring charges. Could you ask your bank to allow charges from "ACME DEMO", then click "Retry payment" under Settings → Billing?',
            "The payment went through — you're all set. I've also removed the suspension warning from the account.",
        ),
        followups=(
            "The bank approved it and I retried the payment just now.",
            "Thank you!",
        ),
    ),
    Scenario(
        key="tax-forms",
        mailbox="billing",
        tags=("billing",),
        subjects=("W-9 form request", "Vendor registration documents"),
        openings=(
            "Our finance team needs a completed W-9 and your bank details on company letterhead to add you as a vendor. Can you send those?",
        ),
        replies=(
            "Happy to help. I've attached our W-9 and a letter with our bank details, signed by our finance lead. If your vendor portal needs us to fill in a form directly, send me the link and I'll take care of it.",
            "Yes, we accept purchase orders for annual plans. Send the PO to billing@acme-demo.test and we'll put its number on the invoice.",
        ),
        followups=(
            "Received, thanks. We'll also issue a purchase order for the renewal — is that OK?",
            "Will do. Thanks!",
        ),
    ),
    Scenario(
        key="nonprofit-discount",
        mailbox="billing",
        tags=("billing",),
        subjects=("Nonprofit discount?", "Discount for education"),
        openings=(
            "We're a small nonprofit (a registered charity) and would love to use the {plan} plan. Do you offer any discounts for nonprofits?",
        ),
        replies=(
            "We do! Registered nonprofits get 50% off any plan. Reply with a link to your charity registration or a copy of your certificate, and I'll apply the discount to your account.",
            "Thanks, that's all I need. The discount is applied: you'll see 50% off from the next invoice, for as long as you're on a paid plan.",
        ),
        followups=(
            "Here's our registration: charity number 11{count}4{count}7.",
            "Thank you so much, this makes a real difference for us.",
        ),
    ),
    Scenario(
        key="monthly-to-annual",
        mailbox="billing",
        tags=("billing",),
        subjects=("Switch from monthly to annual billing", "Annual billing option"),
        openings=(
            "We've been on monthly billing for a while. What would it cost to switch to annual, and do we get credit for the month we've already paid?",
        ),
        replies=(
            "Annual is 10 months' price for 12, so for your {seats} seats on the {plan} plan it comes to {amount} a year. When you switch, the unused part of this month is credited against the annual invoice. You can switch under Settings → Billing → Billing period.",
            "You can add seats anytime, prorated for the rest of the year; removing seats takes effect at renewal.",
        ),
        followups=(
            "Sounds good. If we add people during the year, how does that work?",
            "Switched. Thanks!",
        ),
    ),
    Scenario(
        key="reduce-seats",
        mailbox="billing",
        tags=("billing", "account"),
        subjects=("Reduce seats on our plan", "Remove users to lower our bill"),
        openings=(
            "Three people left our team, so we'd like to go down from {seats} seats. I removed them on the team page, but the invoice preview still shows the old number.",
        ),
        replies=(
            "Removing members frees their seats, but the seat count on the plan is separate so nobody loses seats by accident. Go to Settings → Billing → Seats and lower the number; the invoice preview updates right away, and the change applies from your next invoice.",
            'Their content stays in the workspace: anything they created is kept and shown as "former member". You can reassign their open items in bulk under Settings → Team → Former members.',
        ),
        followups=(
            "Done. What happens to their projects and files?",
            "Perfect, thanks.",
        ),
    ),
    Scenario(
        key="missing-receipt",
        mailbox="billing",
        tags=("billing", "invoice"),
        subjects=("Need receipts for expenses", "Where can I download invoices?"),
        openings=(
            "I need receipts for the last three months for my expense report, but I can't find them anywhere. Can you send them?",
        ),
        replies=(
            "Of course — I've attached the receipts for the last three payments. For the future, every invoice and receipt is under Settings → Billing → History, each with a PDF download.",
            'Yes: add your company name under Settings → Billing → Company details, then click "Regenerate" next to each invoice in History and the PDFs will include it.',
        ),
        followups=(
            "Thanks! Can I get them with my company name on them instead of my own?",
            "Worked nicely, thanks.",
        ),
    ),
)

SPAM: tuple[tuple[str, str], ...] = (
    (
        "Boost your Google rankings — 1st page guaranteed",
        "Hello Sir/Madam,\n\nI was checking your website and noticed it is not ranking on the first page of Google for many important keywords. We are a team of SEO experts and can get you to #1 in 30 days.\n\nReply for a FREE audit.",
    ),
    (
        "Partnership proposal: guest post",
        "Hi team,\n\nI'd love to contribute a high-quality guest post to your blog. In return I only need one do-follow link. Let me know your price for a sponsored article.",
    ),
    (
        "Invoice #88231 overdue — action required",
        "Please find the outstanding invoice through the secure link below and process payment today to avoid service interruption:\n\nhttp://payments-secure.example/inv/88231",
    ),
    (
        "Your mailbox will be deactivated",
        "Dear user,\n\nUnusual activity was detected on your mailbox. Verify your account within 24 hours or it will be deactivated: http://verify-mail.example/login",
    ),
    (
        "Lead generation for your business",
        "We provide verified B2B email lists of decision makers in your industry. 50,000 contacts for only $299. Reply YES for a free sample.",
    ),
)

# Extra back-and-forth for threads longer than a scenario's own script: (customer asks, agent answers).
EXTRA_EXCHANGES: tuple[tuple[str, str], ...] = (
    (
        "One more thing while I have you: can notification emails go to a shared address as well as to me?",
        "Sure — under Profile → Notifications → Also send to, you can add any address, for example a shared team inbox.",
    ),
    (
        "Unrelated, but is there a way to see who on my team changed a setting?",
        "Yes: the audit log under Settings → Security → Audit log lists every change with who made it and when, for the last 12 months.",
    ),
    (
        "Thanks. Will this also apply to the second workspace we have?",
        "Settings are per workspace, so you'd repeat it there. If you like, I can do it for you — just confirm the workspace name.",
    ),
    (
        "Also, is there a status page I can subscribe to, so I know about incidents before I email you?",
        "There is: https://status.acme-demo.test — click Subscribe to get incident updates by email or in Slack.",
    ),
)

STILL_OPEN: tuple[str, ...] = (
    "Sorry to come back to this, but it's happening again this morning. Can you take another look?",
    "Thanks. I tried that but I'm still stuck — could someone give me a quick call?",
    "Following up on this: any news?",
    "One more question on this: does the same apply to our other account?",
)

THANKS: tuple[str, ...] = (
    "That worked, thank you!",
    "Perfect, all sorted. Thanks {agent}!",
    "Great, thanks for the quick help.",
    "Confirmed, it's fixed on our side. Appreciate it.",
    "Thanks! You can close this one.",
    "Brilliant — thank you so much.",
    "All good now. Have a great week!",
)

GENERIC_NOTES: tuple[str, ...] = (
    "Customer is on the {plan} plan. Checked their account: nothing unusual in the logs.",
    "Second ticket about this from them this month. Worth a help-center article?",
    "VIP account, keep response times tight on this one.",
    "Asked engineering in #support-escalations, waiting to hear back.",
    "{agent}, can you take this one? You handled their last question.",
    "Looks like the same root cause as the ticket from last week.",
)

# ---------------------------------------------------------------------------------------------------------
# People.
# ---------------------------------------------------------------------------------------------------------

AGENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (email, name, mailboxes they mostly answer)
    (DEMO_ADMIN_EMAIL, DEMO_ADMIN_NAME, ("support", "billing")),
    ("marcus.lee@acme-demo.test", "Marcus Lee", ("support",)),
    ("priya.raman@acme-demo.test", "Priya Raman", ("support",)),
    ("sofia.alvarez@acme-demo.test", "Sofia Álvarez", ("billing", "support")),
    ("tom.becker@acme-demo.test", "Tom Becker", ("billing",)),
)

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "James", "Aisha", "Chen", "Lukas", "Sophie", "Mateo", "Olivia", "Hiroshi", "Fatima", "Noah",
    "Emma", "Ravi", "Ingrid", "Diego", "Chloe", "Kwame", "Hannah", "Arjun", "Lena", "Samuel", "Yuki",
    "Isabella", "Omar", "Zoe", "Daniel", "Amara", "Felix", "Grace", "Mohammed", "Elena", "Jonas", "Priyanka",
    "Ethan", "Camille", "Tariq", "Nora", "Lucas", "Mei", "Oscar", "Leila", "Ben", "Ana", "Victor", "Freya",
    "Kenji", "Sara", "Tobias", "Julia", "Adebayo", "Clara", "Ryan", "Nadia", "Henrik", "Lucia", "Marco",
    "Rachel", "Stefan", "Ines", "Kofi", "Paula", "Dmitri", "Rosa", "Alex", "Chiara", "Liam", "Hana",
    "Gabriel", "Martina", "Pedro", "Siobhan", "Wei", "Emily", "Jakob", "Zanele", "Anton", "Laura", "Ahmed",
    "Beatriz", "Connor",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Garcia", "Smith", "Khan", "Wang", "Müller", "Martin", "Rossi", "Johnson", "Tanaka", "Haddad", "Brown",
    "Schmidt", "Patel", "Larsen", "Fernández", "Dubois", "Mensah", "Fischer", "Sharma", "Weber", "Okafor",
    "Sato", "Lopez", "Farouk", "Williams", "Novak", "Nguyen", "Becker", "O'Brien", "Kowalski", "Silva",
    "Andersson", "Kim", "Moreau", "Ivanova", "Hughes", "Costa", "Bauer", "Ali", "Murphy", "Jensen",
    "Romero", "Chowdhury", "Walsh", "Yamamoto", "Hoffmann", "Diallo", "Clarke", "Bianchi", "Nielsen",
    "Park", "Santos", "Lindqvist", "Adeyemi", "Horvat", "Reyes", "Taylor", "Eriksen", "Cohen", "Mwangi",
    "Kaur", "Dupont", "Brennan", "Lehmann", "Varga", "Ortiz", "Nakamura", "Petrov", "Wright", "Gomez",
)  # fmt: skip

COMPANIES: tuple[str, ...] = (
    "Northwind Traders", "Bluefin Analytics", "Harbor & Pine", "Kestrel Logistics", "Lumen Health",
    "Orbit Media", "Pinewood Studios", "Quartz Legal", "Redwood Dental", "Silverline Travel", "Tidewater Farms",
    "Umbra Design", "Vantage Realty", "Willow Bakery", "Yellowstone Outfitters", "Zephyr Energy",
    "Brightpath Tutoring", "Cobalt Robotics", "Driftwood Hotels", "Evergreen Clinics", "Foxglove Florists",
    "Granite Construction Co", "Helix Bio", "Ironbark Security", "Juniper Schools", "Keystone Insurance",
    "Lighthouse Nonprofit", "Meridian Freight", "Nimbus Cloudworks", "Oakridge Veterinary", "Paperplane Press",
    "Quill & Ink", "Riverbend Coffee", "Summit Outdoor", "Trellis Architecture", "Upland Brewing",
    "Vireo Labs", "Wavelength Audio", "Atlas Fitness", "Beacon Accounting",
)  # fmt: skip

TITLES: tuple[str, ...] = (
    "Operations Manager", "Head of Finance", "IT Administrator", "Founder", "Office Manager", "CTO",
    "Customer Success Lead", "Accountant", "Product Manager", "Marketing Lead",
)  # fmt: skip

PERSONAL_DOMAINS: tuple[str, ...] = (
    "example.com",
    "example.net",
    "example.org",
    "mail.example",
    "inbox.example",
)
TIMEZONES: tuple[str, ...] = (
    "America/New_York", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Toronto", "Europe/London", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
    "Europe/Stockholm", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
    "America/Sao_Paulo", "Africa/Lagos",
)  # fmt: skip
PLANS: tuple[str, ...] = ("free", "starter", "starter", "pro", "pro", "pro", "business", "enterprise")
BROWSERS: tuple[str, ...] = ("Chrome", "Firefox", "Safari", "Edge")
SYSTEMS: tuple[str, ...] = ("Windows 11", "macOS Sonoma", "macOS Ventura", "Ubuntu 22.04", "ChromeOS")
DEVICES: tuple[str, ...] = ("Acme Sensor S2", "Acme Hub", "Acme Sensor Mini")
IDPS: tuple[str, ...] = ("Okta", "Microsoft Entra ID", "Google Workspace", "OneLogin", "JumpCloud")
AMOUNTS: tuple[str, ...] = (
    "$49.00",
    "$99.00",
    "$147.00",
    "$228.00",
    "$588.00",
    "€79.00",
    "£39.00",
    "$1,188.00",
)
STREETS: tuple[str, ...] = (
    "Unit 4, 12 Harbour Street", "221 Market Street, Suite 300", "Friedrichstraße 68", "9 Rue des Lilas",
    "48 King William Road", "1500 Larimer St, Floor 2", "Calle de Alcalá 120", "3-1 Marunouchi, Chiyoda",
)  # fmt: skip
SPAM_SENDERS: tuple[tuple[str, str], ...] = (
    ("Kevin | SEO Growth", "kevin@rankfast.example"),
    ("Digital Outreach Team", "outreach@guestposts.example"),
    ("Accounts Department", "billing-dept@payments-secure.example"),
    ("Mail Administrator", "admin@verify-mail.example"),
    ("Leads Pro", "sales@b2bleads.example"),
)
TAG_COLORS: dict[str, str] = {
    "billing": "#2f6feb", "refund": "#d1242f", "login": "#8250df", "bug": "#cf222e",
    "feature-request": "#1a7f37", "onboarding": "#0969da", "export": "#bf8700", "integrations": "#6639ba",
    "shipping": "#9a6700", "account": "#57606a", "vip": "#e16f24", "urgent": "#a40e26",
}  # fmt: skip

SUPPORT_SIGNATURE = (
    "—\nAcme Support · https://help.acme-demo.test\nSystem status: https://status.acme-demo.test"
)
BILLING_SIGNATURE = (
    "—\nAcme Billing · billing@acme-demo.test\nInvoices and receipts: Settings → Billing → History"
)

# ---------------------------------------------------------------------------------------------------------
# The generator.
# ---------------------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What `load_demo` created, for the command's closing message."""

    mailboxes: int
    agents: int
    customers: int
    conversations: int
    messages: int
    notes: int
    statuses: dict[str, int]
    seconds: float = 0.0


@dataclass
class _Person:
    name: str
    emails: list[str]
    company: str
    domain: str
    timezone: str
    attributes: dict
    signature: str
    spam: bool = False


@dataclass
class _Line:
    """One planned thread line, before conversations have ids."""

    kind: str
    at: datetime
    text: str = ""
    quoted: str = ""
    agent: User | None = None
    from_address: str = ""
    event: dict | None = None


@dataclass
class _Plan:
    mailbox: Mailbox
    person: int
    subject: str
    status: str
    channel: str
    tags: list[str]
    cc: list[str]
    lines: list[_Line] = field(default_factory=list)
    assignee: User | None = None
    resolved_at: datetime | None = None


def demo_exists() -> bool:
    """The demo admin is the marker that the demo workspace was loaded."""
    return User.objects.filter(email=DEMO_ADMIN_EMAIL).exists()


def load_demo(
    *, seed: int = 1, conversations: int = DEFAULT_CONVERSATIONS, now: datetime | None = None
) -> DemoSummary:
    """Create the demo workspace in one transaction and return what was created.

    The number of customers scales with `conversations` (about one customer per five conversations).
    """
    if conversations < 1:
        raise ValueError("conversations must be at least 1")
    started = time.perf_counter()
    builder = _Builder(random.Random(seed), now or timezone.now(), conversations)
    with transaction.atomic():
        summary = builder.build()
        _saved_replies(builder.agents[0], builder.mailboxes)
        _ratings(random.Random(seed + 7))
        load_demo_status(now=builder.now)
        from happydesk.kb.demo import load_demo_kb

        load_demo_kb(author=builder.agents[0])
        load_demo_community(now=builder.now)
        from happydesk.runtime.indexes import reindex_everything

        reindex_everything()  # rows were bulk-created, so the search documents are built here
        _mark_waiting()
        Mailbox.objects.filter(address__startswith="support@").update(
            call_link="https://cal.acme-demo.test/support"
        )
        from happydesk.reports.demo import load_demo_reports

        load_demo_reports(now=builder.now)  # orders per day, support cost; then the report rollup
    summary.seconds = time.perf_counter() - started
    return summary


DEMO_SAVED_REPLIES = [
    (
        None,
        "Password reset link",
        "Hi {{ customer.first_name }},\n\nI've sent a fresh password reset link to "
        "{{ customer.email }}. It works for one hour; if it doesn't arrive in a few minutes, check the spam folder.\n\n"
        "{{ agent.first_name }}",
        "Send only after triggering the reset in the admin console.",
    ),
    (
        "billing",
        "Refund issued",
        "Hi {{ customer.first_name }},\n\nI've refunded [AMOUNT] for order [ORDER NUMBER]. "
        "It shows on your statement in 3-5 working days.\n\n{{ agent.first_name }}",
        "Only after the refund shows as 'succeeded' in the payment dashboard.",
    ),
    (
        "billing",
        "Invoice address changed",
        "Hi {{ customer.first_name }},\n\nDone: invoices from now on show the new "
        "address. I've also re-issued invoice [INVOICE NUMBER] with it, attached.\n\n{{ agent.first_name }}",
        "Attach the re-issued PDF before sending.",
    ),
    (
        None,
        "Known issue: slow dashboard",
        "Hi {{ customer.first_name }},\n\nThanks for telling us. The team is "
        "already on it and I'll write to you here (#{{ conversation.number }}) as soon as it's fixed.\n\n"
        "{{ agent.first_name }}",
        "Tag the conversation 'performance' so we can tell everyone when it's fixed.",
    ),
    (
        None,
        "Offer a call",
        "If it's easier to look at this together, pick a time that suits you: {{ mailbox.call_link }}",
        "Snippet: after three back-and-forths without a fix.",
    ),
]


def _mark_waiting() -> None:
    """Open conversations whose last public line is the customer's are waiting for an answer since then."""
    from happydesk.inbox.models import Conversation, Message

    for conversation in Conversation.objects.filter(status=Conversation.Status.ACTIVE):
        last = (
            conversation.messages.filter(kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY])
            .order_by("-created_at", "-id")
            .first()
        )
        if last is not None and last.kind == Message.Kind.CUSTOMER and not reads_as_done(last.text):
            Conversation.objects.filter(pk=conversation.pk).update(waiting_since=last.created_at)


DEMO_RATING_COMMENTS = {
    "great": [
        "Quick and clear, thank you!",
        "Sorted in minutes. Great service.",
        "Really appreciated the step-by-step answer.",
        "",
        "",
        "",
    ],
    "okay": ["Fixed, but I had to explain it twice.", "Took a while to hear back.", ""],
    "not_good": [
        "Still not fixed and nobody told me why.",
        "I was charged twice and got a canned answer.",
        "",
    ],
}


def _ratings(rng: random.Random) -> None:
    """Ratings on about half of the closing replies (mostly great), with a few comments, as the
    one-click question would have gathered them; each customer asked at most once in 30 days."""
    from happydesk.feedback.models import Rating, RatingRequest

    closing = (
        Message.objects.filter(kind=Message.Kind.REPLY, conversation__status=Conversation.Status.CLOSED)
        .select_related("conversation")
        .order_by("conversation_id", "-created_at")
    )
    last_reply: dict[int, Message] = {}
    for m in closing:
        last_reply.setdefault(m.conversation_id, m)
    asked: dict[int, datetime] = {}
    requests, ratings = [], []
    for m in sorted(last_reply.values(), key=lambda m: m.created_at):
        c = m.conversation
        previous = asked.get(c.customer_id)
        if previous and m.created_at - previous < timedelta(days=30):
            continue
        asked[c.customer_id] = m.created_at
        request = RatingRequest(conversation=c, message=m, customer_id=c.customer_id, created_at=m.created_at)
        requests.append(request)
        if rng.random() < 0.45:
            value = rng.choices(["great", "okay", "not_good"], weights=[76, 16, 8])[0]
            at = m.created_at + timedelta(minutes=rng.randint(3, 600))
            ratings.append((request, value, rng.choice(DEMO_RATING_COMMENTS[value]), at, m))
    RatingRequest.objects.bulk_create(requests, batch_size=500)
    Rating.objects.bulk_create(
        [
            Rating(
                request=request,
                conversation=request.conversation,
                customer_id=request.customer_id,
                agent_id=m.author_id,
                mailbox_id=request.conversation.mailbox_id,
                value=value,
                comment=comment,
                created_at=at,
                updated_at=at,
            )
            for request, value, comment, at, m in ratings
        ],
        batch_size=500,
    )


def _saved_replies(author: User, mailboxes: dict[str, Mailbox]) -> None:
    """A few of the team's saved replies, with the notes on how to use them."""
    from happydesk.replies.models import SavedReply
    from happydesk.replies.services import saved_reply_save

    for key, name, body, note in DEMO_SAVED_REPLIES:
        if not SavedReply.objects.filter(name=name).exists():
            saved_reply_save(
                name=name,
                body=body,
                note=note,
                author=author,
                kind=SavedReply.Kind.SNIPPET if name == "Offer a call" else SavedReply.Kind.REPLY,
                mailbox_id=mailboxes[key].pk if key else None,
            )


def _fmt(text: str, values: dict[str, str]) -> str:
    return text.format_map(values)


def _hhmm(value: str) -> dtime:
    hours, minutes = value.split(":")
    return dtime(int(hours), int(minutes))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("&", "and")).strip("-")


def _ascii(text: str) -> str:
    table = str.maketrans("áàâäãåéèêëíìîïóòôöõúùûüñçß'", "aaaaaaeeeeiiiiooooouuuuncs ")
    return "".join(c for c in text.lower().translate(table) if c.isalnum())


class _Builder:
    """Plans every conversation in memory, then writes each table with a few bulk inserts."""

    def __init__(self, rng: random.Random, now: datetime, conversations: int) -> None:
        self.rng = rng
        self.now = now
        self.n_conversations = conversations
        self.n_customers = max(3, round(conversations / 5))
        self.zone = ZoneInfo(MAILBOX_ZONE)
        self.message_counter = 0

    # -- setup ---------------------------------------------------------------------------------------

    def build(self) -> DemoSummary:
        self.agents = self._agents()
        self.mailboxes = self._mailboxes()
        self.people = self._people()
        plans = self._plans()
        customers = self._write_customers(plans)
        return self._write_conversations(plans, customers)

    def _agents(self) -> list[User]:
        password = make_password(DEMO_PASSWORD)  # hashed once: every demo agent shares it
        users = []
        self.teams: dict[str, list[User]] = {"support": [], "billing": []}
        for index, (email, name, teams) in enumerate(AGENTS):
            admin = email == DEMO_ADMIN_EMAIL
            user = User.objects.filter(email=email).first() or User(email=email)
            user.name = name
            user.role = User.Role.ADMIN if admin else User.Role.AGENT
            user.is_staff = user.is_superuser = admin
            user.password = password
            user.date_joined = self.now - timedelta(days=HISTORY_DAYS + 200 - 30 * index)
            user.save()
            users.append(user)
            for team in teams:
                self.teams[team].append(user)
        return users

    def _mailboxes(self) -> dict[str, Mailbox]:
        support_hours = {str(day): [["08:00", "18:00"]] for day in range(5)} | {"5": [["10:00", "14:00"]]}
        billing_hours = {str(day): [["09:00", "17:00"]] for day in range(5)}
        support = mailbox_create(
            address="support@acme-demo.test",
            name="Acme Support",
            signature=SUPPORT_SIGNATURE,
            timezone=MAILBOX_ZONE,
            business_hours=support_hours,
            response_goal_minutes=4 * 60,
            auto_reply_text="For urgent outages, check https://status.acme-demo.test first.",
            self_help_links=[
                {"title": "Reset your password", "url": "https://help.acme-demo.test/password"},
                {"title": "Track your order", "url": "https://help.acme-demo.test/tracking"},
                {"title": "Exporting your data", "url": "https://help.acme-demo.test/export"},
                {"title": "API and integrations", "url": "https://help.acme-demo.test/api"},
            ],
        )
        billing = mailbox_create(
            address="billing@acme-demo.test",
            name="Acme Billing",
            signature=BILLING_SIGNATURE,
            timezone=MAILBOX_ZONE,
            business_hours=billing_hours,
            response_goal_minutes=24 * 60,
            self_help_links=[
                {"title": "Download invoices", "url": "https://help.acme-demo.test/invoices"},
                {"title": "Change or cancel your plan", "url": "https://help.acme-demo.test/plans"},
            ],
        )
        return {"support": support, "billing": billing}

    def _people(self) -> list[_Person]:
        rng = self.rng
        n_spam = (
            min(len(SPAM_SENDERS), max(1, round(self.n_conversations * 0.03)))
            if self.n_conversations >= 10
            else 0
        )
        n_real = max(1, self.n_customers - n_spam)
        pairs = len(FIRST_NAMES) * len(LAST_NAMES)
        picks = (
            rng.sample(range(pairs), n_real)
            if n_real <= pairs
            else [rng.randrange(pairs) for _ in range(n_real)]
        )
        companies = list(COMPANIES)
        rng.shuffle(companies)
        used: set[str] = set()
        people = []
        for pick in picks:
            first, last = FIRST_NAMES[pick // len(LAST_NAMES)], LAST_NAMES[pick % len(LAST_NAMES)]
            name = f"{first} {last}"
            company = (
                rng.choice(companies[: max(5, len(companies) * n_real // 400)]) if rng.random() < 0.5 else ""
            )
            domain = f"{_slug(company)}.example" if company else ""
            local_first, local_last = _ascii(first), _ascii(last)
            emails = []
            if company and rng.random() < 0.85:
                emails.append(
                    self._unique(
                        rng.choice(
                            [f"{local_first}", f"{local_first}.{local_last}", f"{local_first[0]}{local_last}"]
                        ),
                        domain,
                        used,
                    )
                )
            if not emails or rng.random() < 0.18:
                local = rng.choice(
                    [
                        f"{local_first}.{local_last}",
                        f"{local_first}{local_last[0]}",
                        f"{local_first}_{local_last}{rng.randint(1, 99)}",
                        f"{local_first[0]}.{local_last}",
                    ]
                )
                emails.append(self._unique(local, rng.choice(PERSONAL_DOMAINS), used))
            attributes: dict = {}
            if rng.random() < 0.7:
                attributes["plan"] = rng.choice(PLANS)
            if company and rng.random() < 0.6:
                attributes["seats"] = rng.choice([3, 5, 8, 12, 20, 35, 60])
            if rng.random() < 0.08:
                attributes["vip"] = True
            signature = ""
            roll = rng.random()
            if company and roll < 0.35:
                signature = f"--\n{name}\n{rng.choice(TITLES)}, {company}"
            elif roll < 0.12:
                signature = rng.choice(["Sent from my iPhone", "Sent from my Galaxy", f"--\n{name}"])
            people.append(
                _Person(
                    name,
                    emails,
                    company,
                    domain,
                    rng.choice(TIMEZONES) if rng.random() < 0.85 else "",
                    attributes,
                    signature,
                )
            )
        for name, address in SPAM_SENDERS[:n_spam]:
            people.append(_Person(name, [address], "", "", "", {}, "", spam=True))
        return people

    @staticmethod
    def _unique(local: str, domain: str, used: set[str]) -> str:
        address, n = f"{local}@{domain}", 1
        while address in used:
            n += 1
            address = f"{local}{n}@{domain}"
        used.add(address)
        return address

    # -- time ----------------------------------------------------------------------------------------

    def _start_time(self) -> datetime:
        """When a customer first writes: mostly weekdays and office hours, more recently than long ago."""
        rng = self.rng
        today = self.now.astimezone(self.zone).date()
        days = list(range(HISTORY_DAYS - 1))
        weights = []
        for back in days:
            weekday = (today - timedelta(days=back)).weekday()
            weights.append((1.0 if weekday < 5 else 0.2) * (1.3 - 0.4 * back / HISTORY_DAYS))
        hour_weights = [1, 1, 1, 1, 1, 2, 3, 6, 10, 13, 13, 12, 10, 11, 12, 11, 9, 7, 5, 4, 3, 3, 2, 1]
        while True:
            back = rng.choices(days, weights)[0]
            hour = rng.choices(range(24), hour_weights)[0] if rng.random() < 0.85 else rng.randrange(24)
            local = datetime.combine(
                today - timedelta(days=back),
                dtime(hour, rng.randrange(60), rng.randrange(60)),
                tzinfo=self.zone,
            )
            at = local.astimezone(self.now.tzinfo)
            if self.now - timedelta(days=HISTORY_DAYS) < at < self.now - timedelta(minutes=5):
                return at

    def _next_open(self, mailbox: Mailbox, at: datetime) -> datetime:
        """`at` if the mailbox's team is working then, else when they next start."""
        local = at.astimezone(self.zone)
        for add in range(8):
            day = local.date() + timedelta(days=add)
            for start, end in sorted(mailbox.business_hours.get(str(day.weekday())) or []):
                opens = datetime.combine(day, _hhmm(start), tzinfo=self.zone)
                closes = datetime.combine(day, _hhmm(end), tzinfo=self.zone)
                if local < closes:
                    return max(local, opens).astimezone(at.tzinfo)
        return at

    def _agent_time(self, mailbox: Mailbox, after: datetime) -> datetime:
        """When an agent answers: in business hours, usually within an hour or two, sometimes a day later."""
        rng = self.rng
        start = self._next_open(mailbox, after + timedelta(minutes=2))
        if start > after + timedelta(minutes=2):
            start += timedelta(minutes=rng.uniform(5, 90))  # the morning queue
        minutes = min(max(rng.lognormvariate(math.log(40), 0.9), 4), 8 * 60)
        at = start + timedelta(minutes=minutes)
        if rng.random() < 0.1:  # a busy day: picked up the next working day
            at = self._next_open(mailbox, at + timedelta(hours=rng.uniform(16, 30))) + timedelta(
                minutes=rng.uniform(10, 120)
            )
        return at

    def _customer_time(self, after: datetime) -> datetime:
        minutes = min(max(self.rng.lognormvariate(math.log(180), 1.2), 3), 6 * 24 * 60)
        return after + timedelta(minutes=minutes)

    # -- planning ------------------------------------------------------------------------------------

    def _plans(self) -> list[_Plan]:
        rng = self.rng
        real = [i for i, p in enumerate(self.people) if not p.spam]
        spam = [i for i, p in enumerate(self.people) if p.spam]
        n_spam = round(self.n_conversations * 0.03) if spam else 0
        n_real = self.n_conversations - n_spam
        # Everyone writes at least once (when there are enough conversations); some customers write a lot.
        order = list(real)
        rng.shuffle(order)
        weights = [rng.paretovariate(1.4) for _ in real]
        chosen = order[:n_real] + rng.choices(real, weights, k=max(0, n_real - len(order)))
        plans = [self._plan(person) for person in chosen]
        plans += [self._spam_plan(rng.choice(spam)) for _ in range(n_spam)]
        plans.sort(key=lambda plan: plan.lines[0].at)
        return plans

    def _values(self, person: _Person, start: datetime) -> dict[str, str]:
        rng = self.rng
        plan = person.attributes.get("plan", "pro")
        plan = "pro" if plan == "free" else plan
        first = person.name.split()[0]
        alt_domain = f"{_slug(person.company or 'newco')}-group.example"
        earlier = start - timedelta(days=rng.randint(1, 10))
        return {
            "first": first,
            "name": person.name,
            "email": person.emails[0],
            "alt_email": f"{_ascii(first)}@{alt_domain}",
            "company": person.company or "our team",
            "plan": plan.title(),
            "seats": str(person.attributes.get("seats") or rng.choice([5, 8, 12, 20])),
            "order": f"A-{rng.randint(10000, 99999)}",
            "invoice": f"INV-{earlier.year}-{rng.randint(1000, 9999)}",
            "amount": rng.choice(AMOUNTS),
            "last4": f"{rng.randint(0, 9999):04d}",
            "date": f"{earlier:%B} {earlier.day}",
            "browser": rng.choice(BROWSERS),
            "os": rng.choice(SYSTEMS),
            "tracking": f"1Z{rng.randint(10**9, 10**10 - 1)}{rng.randint(10, 99)}",
            "device": rng.choice(DEVICES),
            "idp": rng.choice(IDPS),
            "tz": person.timezone or "Europe/Berlin",
            "count": str(rng.randint(2, 9)),
            "refund": "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", k=14)),
            "street": rng.choice(STREETS),
            "agent": "",
        }

    def _status_for_age(self, start: datetime) -> str:
        age = self.now - start
        if age < timedelta(days=2):
            weights = (25, 45, 30)
        elif age < timedelta(days=7):
            weights = (60, 17, 23)
        else:
            weights = (93, 3, 4)
        return self.rng.choices(["closed", "active", "pending"], weights)[0]

    def _plan(self, index: int) -> _Plan:
        rng = self.rng
        person = self.people[index]
        scenario = rng.choices(SCENARIOS, [s.weight for s in SCENARIOS])[0]
        mailbox = self.mailboxes[scenario.mailbox]
        start = self._start_time()
        values = self._values(person, start)
        status = self._status_for_age(start)
        recent = self.now - start < timedelta(days=2)
        if status == "active":
            n_replies = rng.choices([0, 1, 2, 3], (55, 25, 15, 5) if recent else (8, 47, 30, 15))[0]
        elif status == "pending":
            n_replies = rng.choices([1, 2, 3, 4], (50, 30, 14, 6))[0]
        elif rng.random() < 0.6:  # closed after the whole script played out
            n_replies = len(scenario.replies)
        else:
            n_replies = rng.choices([1, 2, 3, 4], (45, 32, 15, 8))[0]
        # A closing "thanks" only fits once the problem is solved, i.e. the script has run to its end.
        finished = n_replies >= len(scenario.replies)
        thanks = status == "closed" and finished and rng.random() < 0.4
        address = person.emails[0] if len(person.emails) == 1 or rng.random() < 0.8 else person.emails[1]
        cc = (
            [f"{rng.choice(['it', 'accounts', 'ops', 'team'])}@{person.domain}"]
            if person.domain and rng.random() < 0.06
            else []
        )
        tags = list(scenario.tags)
        if person.attributes.get("vip"):
            tags.append("vip")
        if rng.random() < 0.05:
            tags.append("urgent")
        plan = _Plan(
            mailbox=mailbox,
            person=index,
            subject=_fmt(rng.choice(scenario.subjects), values),
            status=status,
            channel=Conversation.Channel.FORM if rng.random() < 0.08 else Conversation.Channel.EMAIL,
            tags=tags,
            cc=cc,
        )
        team = self.teams[scenario.mailbox]
        agent = rng.choice(team)
        extras = rng.sample(EXTRA_EXCHANGES, len(EXTRA_EXCHANGES))
        script = list(scenario.replies)
        asks = list(scenario.followups[: len(script) - 1])
        while len(script) < n_replies:
            ask, answer = extras[len(script) - len(scenario.replies)]
            asks.append(ask)
            script.append(answer)

        opening = _fmt(rng.choice(scenario.openings), values)
        t = start
        plan.lines.append(
            _Line(
                "customer",
                t,
                self._customer_text(opening, person, values, first=True),
                self._signature(person, plan),
                from_address=address,
            )
        )
        last_reply: _Line | None = None
        for i in range(n_replies):
            if i and rng.random() < 0.25:  # someone else on the team picks it up
                agent = rng.choice([a for a in self.agents if a != agent])
            values["agent"] = agent.first_name
            t = self._agent_time(mailbox, t)
            last_reply = _Line("reply", t, self._reply_text(script[i], agent, values), agent=agent)
            plan.lines.append(last_reply)
            if i < n_replies - 1:
                body = asks[i]
            elif status == "active":
                body = (
                    scenario.followups[i]
                    if i < len(scenario.followups) and rng.random() < 0.5
                    else rng.choice(STILL_OPEN)
                )
            elif thanks:
                last_script = i == len(scenario.followups) - 1
                body = scenario.followups[i] if last_script and rng.random() < 0.6 else rng.choice(THANKS)
            else:
                continue
            t = self._customer_time(t)
            plan.lines.append(
                _Line(
                    "customer",
                    t,
                    self._customer_text(_fmt(body, values), person, values),
                    self._quote(last_reply, person, plan),
                    from_address=address,
                )
            )
        if status == "closed":
            if thanks or (finished and rng.random() < 0.5):
                closed_at, was = (self._agent_time(mailbox, t), "active") if thanks else (t, "active")
            else:  # no answer from the customer: closed a few days later
                closed_at, was = self._next_open(mailbox, t + timedelta(days=rng.uniform(2, 6))), "pending"
            plan.lines.append(
                _Line("event", closed_at, agent=agent, event={"type": "status", "from": was, "to": "closed"})
            )
            plan.resolved_at = closed_at
        self._truncate(plan)
        if rng.random() < 0.15:
            self._add_note(plan, scenario, values)
        replied = [line.agent for line in plan.lines if line.kind == "reply"]
        if replied and rng.random() < 0.65:
            plan.assignee = replied[-1]
        elif not replied and rng.random() < 0.2:
            plan.assignee = rng.choice(team)
        return plan

    def _truncate(self, plan: _Plan) -> None:
        """Drop what would lie in the future; the status then follows the last public line."""
        if all(line.at <= self.now for line in plan.lines):
            return
        plan.lines = [line for line in plan.lines if line.at <= self.now and line.kind != "event"]
        plan.resolved_at = None
        plan.status = "active" if plan.lines[-1].kind == "customer" else "pending"

    def _add_note(self, plan: _Plan, scenario: Scenario, values: dict[str, str]) -> None:
        rng = self.rng
        public = [i for i, line in enumerate(plan.lines) if line.kind in ("customer", "reply")]
        after = rng.choice(public[:-1] or public)
        begin = plan.lines[after].at
        end = plan.lines[after + 1].at if after + 1 < len(plan.lines) else self.now
        if end <= begin:
            return
        at = begin + min(timedelta(minutes=rng.uniform(2, 45)), (end - begin) / 2)
        author = rng.choice(self.agents)
        values["agent"] = rng.choice([a for a in self.agents if a != author]).first_name
        text = scenario.note if scenario.note and rng.random() < 0.6 else rng.choice(GENERIC_NOTES)
        plan.lines.insert(after + 1, _Line("note", at, _fmt(text, values), agent=author))

    def _spam_plan(self, index: int) -> _Plan:
        rng = self.rng
        person = self.people[index]
        subject, text = rng.choice(SPAM)
        mailbox = self.mailboxes[rng.choice(["support", "support", "billing"])]
        start = self._start_time()
        plan = _Plan(
            mailbox=mailbox,
            person=index,
            subject=subject,
            status="spam",
            channel=Conversation.Channel.EMAIL,
            tags=[],
            cc=[],
        )
        plan.lines.append(_Line("customer", start, text, from_address=person.emails[0]))
        marked = self._agent_time(mailbox, start)
        if marked <= self.now:
            plan.lines.append(
                _Line(
                    "event",
                    marked,
                    agent=rng.choice(self.teams[mailbox.local_part]),
                    event={"type": "status", "from": "active", "to": "spam"},
                )
            )
        return plan

    # -- text ----------------------------------------------------------------------------------------

    def _reply_text(self, body: str, agent: User, values: dict[str, str]) -> str:
        rng = self.rng
        greeting = rng.choice(
            ["Hi {first},", "Hello {first},", "Hi {first},", "Hey {first},", "Dear {first},"]
        )
        closing = rng.choice(
            ["Best,", "Cheers,", "Thanks,", "Kind regards,", "All the best,", "Best wishes,"]
        )
        return f"{_fmt(greeting, values)}\n\n{_fmt(body, values)}\n\n{closing}\n{agent.first_name}"

    def _customer_text(self, body: str, person: _Person, values: dict[str, str], first: bool = False) -> str:
        rng = self.rng
        parts = []
        if first and rng.random() < 0.6:
            parts.append(rng.choice(["Hi,", "Hello,", "Hi there,", "Hi Acme team,", "Good morning,"]))
        elif not first and rng.random() < 0.4:
            parts.append(f"Hi {values['agent']}," if values["agent"] else "Hi,")
        parts.append(body)
        roll = rng.random()
        if roll < 0.4:
            parts.append(f"Thanks,\n{values['first']}")
        elif roll < 0.6:
            parts.append(f"Best,\n{person.name}")
        elif roll < 0.8:
            parts.append(values["first"])
        return "\n\n".join(parts)

    def _signature(self, person: _Person, plan: _Plan) -> str:
        return person.signature if plan.channel == Conversation.Channel.EMAIL else ""

    def _quote(self, reply: _Line, person: _Person, plan: _Plan) -> str:
        """The signature and quoted history a mail client puts under the customer's answer."""
        zone = ZoneInfo(person.timezone) if person.timezone else self.zone
        local = reply.at.astimezone(zone)
        mailbox = plan.mailbox
        assert reply.agent is not None
        attribution = (
            f"On {local:%a}, {local:%b} {local.day}, {local:%Y} at {local:%H:%M}, "
            f"{reply.agent.name} via {mailbox.name} <{mailbox.address}> wrote:"
        )
        sent = reply.text.rstrip() + ("\n\n" + mailbox.signature if mailbox.signature else "")
        quoted = "\n".join(f"> {line}" if line else ">" for line in sent.splitlines())
        parts = [person.signature] if person.signature else []
        return "\n\n".join([*parts, f"{attribution}\n{quoted}"])

    # -- writing -------------------------------------------------------------------------------------

    def _write_customers(self, plans: Sequence[_Plan]) -> list[Customer]:
        rng = self.rng
        first_contact: dict[int, datetime] = {}
        for plan in plans:
            first_contact.setdefault(plan.person, plan.lines[0].at)
        customers = []
        for index, person in enumerate(self.people):
            seen = first_contact.get(index, self.now - timedelta(days=rng.uniform(1, HISTORY_DAYS)))
            customers.append(
                Customer(
                    name=person.name,
                    company=person.company,
                    timezone=person.timezone,
                    attributes=person.attributes,
                    created_at=seen
                    - timedelta(days=rng.uniform(0, 400) if not person.spam else 0, minutes=1),
                )
            )
        Customer.objects.bulk_create(customers, batch_size=500)
        CustomerEmail.objects.bulk_create(
            [
                CustomerEmail(customer=customer, address=address, created_at=customer.created_at)
                for customer, person in zip(customers, self.people, strict=True)
                for address in person.emails
            ],
            batch_size=500,
        )
        return customers

    def _write_conversations(self, plans: Sequence[_Plan], customers: Sequence[Customer]) -> DemoSummary:
        rows = []
        for plan in plans:
            public = [line for line in plan.lines if line.kind in ("customer", "reply")]
            from_customer = [line for line in plan.lines if line.kind == "customer"]
            replies = [line for line in plan.lines if line.kind == "reply"]
            rows.append(
                Conversation(
                    mailbox=plan.mailbox,
                    customer=customers[plan.person],
                    subject=plan.subject,
                    status=plan.status,
                    channel=plan.channel,
                    assignee=plan.assignee,
                    cc=plan.cc,
                    preview=preview_text(from_customer[-1].text),
                    message_count=len(public),
                    created_at=plan.lines[0].at,
                    last_activity_at=max(line.at for line in plan.lines),
                    last_customer_message_at=from_customer[-1].at,
                    first_response_at=replies[0].at if replies else None,
                    resolved_at=plan.resolved_at,
                )
            )
        for row, plan in zip(
            rows, plans, strict=True
        ):  # the clock-free triage score, as the services store it
            said = [line for line in plan.lines if line.kind == "customer"]
            fields = standing_fields(
                row, latest=said[-1].text, first=len(said) == 1, customer=customers[plan.person]
            )
            for name, value in fields.items():
                setattr(row, name, value)
        Conversation.objects.bulk_create(rows, batch_size=500)

        messages = []
        for conversation, plan in zip(rows, plans, strict=True):
            messages += self._messages(conversation, plan, customers[plan.person])
        Message.objects.bulk_create(messages, batch_size=1000)

        tags = {}
        for name in sorted({name for plan in plans for name in plan.tags}):
            tags[name], _ = Tag.objects.get_or_create(name=name, defaults={"color": TAG_COLORS.get(name, "")})
        through = Conversation.tags.through
        through.objects.bulk_create(
            [
                through(conversation_id=conversation.pk, tag_id=tags[name].pk)
                for conversation, plan in zip(rows, plans, strict=True)
                for name in dict.fromkeys(plan.tags)
            ],
            batch_size=1000,
        )
        return DemoSummary(
            mailboxes=len(self.mailboxes),
            agents=len(self.agents),
            customers=len(customers),
            conversations=len(rows),
            messages=sum(1 for m in messages if m.kind in (Message.Kind.CUSTOMER, Message.Kind.REPLY)),
            notes=sum(1 for m in messages if m.kind == Message.Kind.NOTE),
            statuses=dict(Counter(plan.status for plan in plans)),
        )

    def _messages(self, conversation: Conversation, plan: _Plan, customer: Customer) -> list[Message]:
        """Thread rows with the Message-ID, In-Reply-To and References real mail would have had."""
        mailbox = plan.mailbox
        thread_subject = reply_subject(conversation.subject, conversation.pk)
        out: list[Message] = []
        last_customer: Message | None = None
        last_reply: Message | None = None
        for line in plan.lines:
            if line.kind == "customer":
                self.message_counter += 1
                refs: list[str] = []
                if last_reply is not None:
                    refs = [*last_reply.references.split(), last_reply.message_id][-MAX_REFERENCES:]
                message = Message(
                    conversation=conversation,
                    kind=Message.Kind.CUSTOMER,
                    customer=customer,
                    from_name=customer.name,
                    from_address=line.from_address,
                    to=[
                        mailbox.address
                        if last_reply is None
                        else mailbox.reply_address(conversation.reply_token)
                    ],
                    cc=list(plan.cc),
                    subject=conversation.subject if last_reply is None else thread_subject,
                    text=line.text,
                    quoted=line.quoted,
                    message_id=f"demo.{self.message_counter}@customer.example",
                    in_reply_to=last_reply.message_id if last_reply is not None else "",
                    references=" ".join(refs),
                    threading_rule="demo",
                    threading_reason="demo data" if last_reply is None else "demo data: answer to our reply",
                    # Demo senders stand for customers whose mail passed SPF, DKIM and DMARC.
                    sender_verified=not conversation.unverified,
                    verification=(
                        "demo data: not verified"
                        if conversation.unverified
                        else "verified: demo data (dmarc=pass)"
                    ),
                    created_at=line.at,
                )
                last_customer = message
            elif line.kind == "reply":
                assert line.agent is not None and last_customer is not None
                refs = [*last_customer.references.split(), last_customer.message_id][-MAX_REFERENCES:]
                message = Message(
                    conversation=conversation,
                    kind=Message.Kind.REPLY,
                    author=line.agent,
                    from_name=line.agent.name,
                    from_address=mailbox.address,
                    to=[last_customer.from_address],
                    cc=list(plan.cc),
                    subject=thread_subject,
                    text=line.text,
                    message_id=new_message_id(conversation),
                    in_reply_to=last_customer.message_id,
                    references=" ".join(refs),
                    delivery=Message.Delivery.SENT,
                    sent_at=min(line.at + timedelta(seconds=self.rng.randint(2, 40)), self.now),
                    created_at=line.at,
                )
                last_reply = message
            elif line.kind == "note":
                assert line.agent is not None
                message = Message(
                    conversation=conversation,
                    kind=Message.Kind.NOTE,
                    author=line.agent,
                    from_name=line.agent.name,
                    text=line.text,
                    created_at=line.at,
                )
            else:
                message = Message(
                    conversation=conversation,
                    kind=Message.Kind.EVENT,
                    author=line.agent,
                    event=line.event or {},
                    created_at=line.at,
                )
            out.append(message)
        return out
