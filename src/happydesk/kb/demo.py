"""Demo knowledge base for `happydesk demo`: a help centre for the demo's product, Acme, whose answers
match what the demo conversations ask (passwords, two-factor, exports, billing, integrations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.kb.models import Article, ArticleVersion, Category
from happydesk.kb.services import article_save, category_create, collection_create
from happydesk.search.services import synonym_group_save


@dataclass(frozen=True)
class DemoArticle:
    key: str
    category: str
    title: str
    body: str
    views: int = 0
    yes: int = 0
    no: int = 0
    days_ago: int = 30
    internal_only: bool = False
    draft: bool = False
    related: tuple[str, ...] = ()


COLLECTIONS = [
    ("public", "Using Acme", "Guides and answers for everyone on your team.", False),
    ("internal", "Support team handbook", "How we handle the tricky cases. Agents only.", True),
]
CATEGORIES = [
    ("start", "public", "Getting started", "Invite your team and set Acme up the way you work.", "articles"),
    (
        "account",
        "public",
        "Account & sign-in",
        "Passwords, two-factor authentication and single sign-on.",
        "articles",
    ),
    ("billing", "public", "Billing & plans", "Plans, seats, invoices and payments.", "articles"),
    ("data", "public", "Exports & data", "Getting your data out, and what happens to it.", "articles"),
    ("integrations", "public", "Integrations", "Slack, Zapier, webhooks and the API.", "articles"),
    ("faq", "public", "Frequently asked questions", "Short answers to the questions we hear most.", "faq"),
    (
        "policies",
        "internal",
        "Policies & procedures",
        "What we may approve, and the checks we do first.",
        "articles",
    ),
]

ARTICLES: list[DemoArticle] = [
    DemoArticle(
        "invite",
        "start",
        "Invite your team",
        """Acme works best when everyone who shares the work is in the same place. You can invite as many people as your plan has seats.

## Send invitations

1. Go to **Settings → Team**.
2. Click **Invite people** and enter one email address per line.
3. Choose a role: *Member* can do everything except billing; *Admin* can also change the plan and settings.
4. Click **Send invitations**.

Each person gets an email with a link that is valid for 7 days.

## If an invitation doesn't arrive

Invitations come from `invites@acme-demo.test`. If a colleague can't find theirs, ask them to check the spam folder, or ask your IT team to allow that address.

> **Tip:** If your company's domain is verified under **Settings → Team → Domains**, colleagues can also sign up at app.acme-demo.test/join with their work email and join your team automatically.
""",
        views=812,
        yes=64,
        no=5,
        days_ago=80,
        related=("seats", "sso"),
    ),
    DemoArticle(
        "notifications",
        "start",
        "Only get the notifications that matter",
        """By default Acme emails you about every comment on every project you follow. Most people prefer to hear only about their own work.

## Choose what you hear about

Open **Profile → Notifications** and pick one of:

- **Everything**: every comment and change on projects you follow.
- **Only things assigned to me or where I'm mentioned**: the setting most teams use.
- **Nothing by email**: notifications stay inside the app.

## Get a daily digest instead

Turn on **Daily digest** to bundle everything else into one email at 8:00 in your time zone. Your time zone is set under **Profile → General**.
""",
        views=430,
        yes=38,
        no=2,
        days_ago=55,
    ),
    DemoArticle(
        "password",
        "account",
        "Reset your password",
        """If you've forgotten your password, you can set a new one in a couple of minutes.

1. Go to the sign-in page and click **Forgot password?**
2. Enter the email address you sign in with.
3. Open the email from Acme and click **Set a new password**. The link works for one hour.

## The reset email doesn't arrive

- Wait five minutes, then check your spam or junk folder.
- Make sure you entered the address you signed up with; colleagues sometimes have an alias.
- Company mail servers sometimes hold our emails. Ask your IT team to allow mail from `notifications@acme-demo.test`.

Still nothing? Write to us and we'll send you a one-time sign-in link instead.

## "This link has expired"

Each new reset email makes the previous links invalid. Use the link in the **most recent** email, and open it in the same browser you requested it from.
""",
        views=2450,
        yes=188,
        no=21,
        days_ago=90,
        related=("twofactor", "lockout"),
    ),
    DemoArticle(
        "twofactor",
        "account",
        "Turn on two-factor authentication",
        """Two-factor authentication (2FA) asks for a 6-digit code from your phone when you sign in, so a stolen password alone isn't enough to get into your account.

## Turn it on

1. Open **Profile → Security → Two-factor authentication**.
2. Scan the QR code with an authenticator app such as Google Authenticator, 1Password or Authy.
3. Enter the 6-digit code the app shows, then click **Turn on**.
4. **Save your backup codes** somewhere safe, like a password manager. Each code works once, and they are your way in if you lose your phone.

## Codes are rejected

The codes depend on the exact time, so a phone whose clock is off by a minute or two produces codes we can't accept.

- **Android:** open Google Authenticator → **Settings → Time correction for codes → Sync now**.
- **iPhone:** open **Settings → General → Date & Time** and turn on **Set Automatically**.
""",
        views=1310,
        yes=97,
        no=9,
        days_ago=70,
        related=("lockout", "password"),
    ),
    DemoArticle(
        "lockout",
        "account",
        "Locked out by two-factor? How to get back in",
        """If you have a new phone or lost the old one, you can still get into your account.

## Use a backup code

On the code screen, click **Use a backup code instead** and enter one of the codes you saved when you turned on two-factor. Then set up 2FA again on your new phone under **Profile → Security**.

## No backup codes?

Write to us from the email address on your account. For your security we'll ask you to confirm two things before we remove two-factor:

- the last four digits of the card we charge, and
- the approximate date of your last invoice.

Once we've removed it, sign in with your password and turn two-factor back on straight away.
""",
        views=760,
        yes=52,
        no=11,
        days_ago=64,
        related=("twofactor",),
    ),
    DemoArticle(
        "sso",
        "account",
        "Set up single sign-on with SAML",
        """Single sign-on (SSO) lets your team sign in to Acme with your identity provider, such as Okta, Microsoft Entra ID or Google Workspace. SAML SSO is included in the **Business** plan.

## What you need from us

Open **Settings → Security → Single sign-on**. You'll find:

| Setting | Value |
| --- | --- |
| ACS URL | `https://app.acme-demo.test/sso/saml/acs` |
| Entity ID | `https://app.acme-demo.test/sso/saml/metadata` |

## Connect your identity provider

1. In your identity provider, create a new SAML app with the ACS URL and Entity ID above.
2. Map the user's **email address** to `NameID`.
3. Copy the identity provider's **metadata URL** and paste it into Acme's single sign-on settings.
4. Click **Test sign-in** before you turn on **Require SSO** for everyone.

## "Invalid signature" when testing

Paste the metadata **URL** rather than uploading a certificate. Identity providers rotate their signing certificate, and with the URL Acme always fetches the current one.
""",
        views=540,
        yes=41,
        no=6,
        days_ago=45,
        related=("invite",),
    ),
    DemoArticle(
        "seats",
        "billing",
        "Change your plan or number of seats",
        """Admins can change the plan and the number of seats at any time under **Settings → Billing**.

- **Adding seats** takes effect immediately. You pay for the rest of the current billing period, prorated to the day.
- **Removing seats** takes effect at the next renewal; until then everyone keeps access.
- **Upgrading** (for example Team → Business) starts straight away, and we credit what's left of your current plan.
- **Downgrading** happens at the end of the billing period.

Every change shows on your next invoice as a separate line, so your finance team can see what changed and when.
""",
        views=690,
        yes=49,
        no=7,
        days_ago=40,
        related=("invoices",),
    ),
    DemoArticle(
        "invoices",
        "billing",
        "Download invoices and change the billing address",
        """Invoices are under **Settings → Billing → Invoices**. Click any invoice to download it as a PDF.

## Change the name, address or VAT number on invoices

1. Open **Settings → Billing → Billing details**.
2. Update the company name, address or VAT number and click **Save**.

New invoices use the new details. If you need an **earlier** invoice re-issued with the new address, write to us with the invoice number and we'll send a corrected copy.

## Send invoices to your accounts team

Add their address under **Billing details → Invoice recipients**. Each invoice is emailed to everyone on that list.
""",
        views=980,
        yes=72,
        no=8,
        days_ago=35,
        related=("seats", "double-charge"),
    ),
    DemoArticle(
        "double-charge",
        "billing",
        "I was charged twice",
        """Sorry about that; here's what's usually going on.

## A pending charge and a real one

When a card payment fails and is retried, your bank can show the failed attempt as **pending** for a few days. Pending charges disappear by themselves and are never collected.

Check **Settings → Billing → Invoices**: if there is only one paid invoice for the period, you were only charged once.

## Two paid invoices

If you see two paid invoices for the same period, write to us with both invoice numbers. We'll refund the duplicate straight away; it shows on your statement within 3–5 working days.
""",
        views=610,
        yes=40,
        no=12,
        days_ago=28,
        related=("invoices",),
    ),
    DemoArticle(
        "chargebacks",
        "billing",
        "Handling a chargeback or payment dispute",
        """**Internal.** When the payment provider tells us about a dispute:

1. Tag the conversation `billing` and `dispute`.
2. Don't refund while a dispute is open: the customer would get the money twice.
3. Send the customer the *Dispute opened* saved reply and ask whether they recognise the charge.
4. Post the dispute ID in #billing so finance can answer the provider within 7 days.
""",
        views=35,
        days_ago=60,
        internal_only=True,
    ),
    DemoArticle(
        "export",
        "data",
        "Export your data to CSV",
        """You can export any list in Acme, or everything at once.

## Export what's on screen

On any list page (Reports, Contacts, Projects), set the filters you want, then click **Export → All matching rows**. The download starts straight away for up to 50,000 rows.

## Export everything

1. Go to **Settings → Data → Full export**.
2. Choose **CSV** (one file per table, in a ZIP) or **JSON**.
3. Click **Start export**.

We email you a download link when it's ready, usually within 10 minutes. The link works for 7 days.

## Open the file in Excel

Our CSV files are UTF-8. If accented characters look wrong in Excel, use **Data → From Text/CSV** and choose **65001: Unicode (UTF-8)** as the file origin.
""",
        views=1980,
        yes=150,
        no=14,
        days_ago=20,
        related=("delete",),
    ),
    DemoArticle(
        "delete",
        "data",
        "Delete your account and your data",
        """An admin can delete your team's account under **Settings → Data → Delete account**.

- Before you delete, make a full export under **Settings → Data → Full export** if you want to keep a copy.
- Deleting is immediate for people using Acme: nobody can sign in any more.
- We remove your data from our systems within 30 days, and from backups within 90 days.

If you only want to remove one person, go to **Settings → Team** instead and click **Remove** next to their name.
""",
        views=220,
        yes=18,
        no=3,
        days_ago=50,
        related=("export",),
    ),
    DemoArticle(
        "slack",
        "integrations",
        "Connect Slack",
        """Get a message in Slack when something happens in Acme: a new signup, a report that's ready, a comment that mentions you.

1. Go to **Settings → Integrations → Slack** and click **Connect**.
2. Sign in to Slack and choose the channel.
3. Pick the events you want and click **Save**.

## Messages stopped arriving

If the integration shows *Connected* but nothing comes through, the Slack app was probably removed from the channel, or the person who connected it left your Slack workspace. Click **Reconnect** and choose the channel again.
""",
        views=470,
        yes=33,
        no=4,
        days_ago=33,
        related=("zapier", "webhooks"),
    ),
    DemoArticle(
        "zapier",
        "integrations",
        "Zapier stopped working: reconnect your account",
        """Zaps use an API token that belongs to the person who connected Acme. If that token is revoked (under **Settings → API**), or that person leaves your team, the Zap stops with an *Unauthorized* error.

To fix it, open Zapier, go to **My Apps → Acme → Reconnect** and sign in again. That creates a fresh token, and your Zaps carry on from there.
""",
        views=260,
        yes=25,
        no=2,
        days_ago=25,
        related=("slack", "webhooks"),
    ),
    DemoArticle(
        "webhooks",
        "integrations",
        "Verify webhook signatures",
        """Every webhook we send has an `X-Acme-Signature` header, so you can check the request really came from us.

The header looks like `sha256=5d41402abc…`. The part after `sha256=` is an HMAC-SHA256 of the **raw request body**, keyed with your webhook secret from **Settings → API → Webhooks**.

```python
import hashlib
import hmac

def is_from_acme(raw_body: bytes, header: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)
```

## The signature never matches

- Compute the HMAC on the raw bytes **before** any JSON parsing: re-serialising changes spacing and key order.
- Compare only the part after `sha256=`.
- If you rotated the secret, update it everywhere your code runs.
""",
        views=390,
        yes=36,
        no=3,
        days_ago=15,
        related=("zapier",),
    ),
    DemoArticle(
        "trial",
        "faq",
        "Is there a free trial?",
        "Yes. Every plan comes with a 14-day free trial, no card needed. At the end of the trial you choose a plan, or your account pauses until you do; nothing is deleted.",
        views=900,
        yes=80,
        no=2,
    ),
    DemoArticle(
        "invoice-payment",
        "faq",
        "Can we pay by invoice or bank transfer?",
        "Yes, on yearly plans with 20 seats or more. Write to us with your company details and we'll switch your account to invoice billing, payable within 30 days.",
        views=410,
        yes=30,
        no=4,
    ),
    DemoArticle(
        "data-location",
        "faq",
        "Where is our data stored?",
        "In data centres in the EU (Frankfurt and Dublin). Backups stay in the EU too. The full list of sub-processors is on our security page.",
        views=350,
        yes=29,
        no=1,
    ),
    DemoArticle(
        "nonprofit",
        "faq",
        "Do you offer discounts for non-profits and schools?",
        "Yes: 50% off any plan for registered non-profits, schools and universities. Write to us from your organisation's email address with a link to your registration.",
        views=180,
        yes=15,
        no=1,
    ),
    DemoArticle(
        "mobile",
        "faq",
        "Is there a mobile app?",
        "Yes, for iPhone and Android. Search for **Acme** in the App Store or Google Play and sign in with your usual account. If you use single sign-on, tap **Sign in with SSO**.",
        views=520,
        yes=44,
        no=3,
    ),
    DemoArticle(
        "refund-policy",
        "policies",
        "Refunds: what you can approve yourself",
        """- **Duplicate charge:** refund the duplicate straight away, no approval needed.
- **Forgot to cancel, renewed in the last 14 days, account unused since:** refund in full.
- **Anything else up to $500:** refund if it keeps a good customer; add a note saying why.
- **Over $500 or a yearly plan after 30 days:** ask in #billing first.

Always use the *Refund issued* saved reply, and only after the refund shows as *succeeded* in the payment dashboard.
""",
        views=48,
        days_ago=70,
    ),
    DemoArticle(
        "remove-2fa",
        "policies",
        "Removing two-factor: the identity check",
        """Never remove two-factor on request alone. The customer must write **from the address on the account** and confirm **both**:

1. the last four digits of the card on file, and
2. the month of their last invoice.

On free accounts without a card, ask another agent to confirm with you in a note. Then remove 2FA in the admin console, and add a note with what was checked.
""",
        views=61,
        days_ago=64,
    ),
    DemoArticle(
        "offline",
        "data",
        "Offline mode on Android",
        """*Draft: waiting for the 5.13 release.*

The Android app keeps the last 30 days of projects on your phone so you can read them without a connection.
""",
        draft=True,
        days_ago=3,
    ),
]

# Synonym groups a help centre like Acme's starts with: the words customers use next to the words the
# articles use. Loaded with the demo only; a real install starts with none (admins add their own).
DEMO_SYNONYMS = [
    "invite, add user, new user, add member, new member, add colleague, teammate, add people",
    "sign in, log in, login, signin, sign on",
    "password, passcode",
    "two-factor, 2fa, two factor, mfa, authenticator, 2-step verification",
    "sso, single sign-on, saml, okta, azure ad, entra id",
    "delete account, close account, cancel account, remove account, deactivate account",
    "remove user, remove person, remove member, offboard",
    "subscription, plan",
    "price, pricing, cost, discount",
    "non-profit, nonprofit, charity, ngo",
    "school, education, university, student, teacher",
    "invoice, receipt, bill",
    "charged twice, double charge, billed twice, duplicate charge, duplicate payment",
    "refund, money back",
    "export, download data, backup",
    "csv, excel, spreadsheet",
    "notifications, emails from acme, too many emails, alerts",
    "digest, summary",
    "trial, try, test drive, evaluate",
    "data stored, servers, hosting, data centres, data center, region",
    "mobile app, iphone, android, ios, phone app",
    "webhook, callback",
]

# An older first version, so the demo's history page has a real change to show.
EXPORT_FIRST_DRAFT = """You can export any list in Acme, or everything at once.

## Export what's on screen

On any list page, click **Export**. This exports the rows you can see on screen.

## Export everything

Go to **Settings → Data → Full export** and choose CSV. We email you a link when it's ready.
"""


@transaction.atomic
def load_demo_kb(*, author: User | None = None, now: datetime | None = None) -> int:
    """Create the demo collections, categories and articles; returns how many articles were made."""
    now = now or timezone.now()
    collections = {
        key: collection_create(name=name, description=text, internal_only=internal, position=i)
        for i, (key, name, text, internal) in enumerate(COLLECTIONS)
    }
    categories: dict[str, Category] = {}
    for i, (key, parent, name, text, flavour) in enumerate(CATEGORIES):
        categories[key] = category_create(
            collection=collections[parent], name=name, description=text, flavour=flavour, position=i
        )
    made: dict[str, Article] = {}
    for i, spec in enumerate(ARTICLES):
        first = EXPORT_FIRST_DRAFT if spec.key == "export" else spec.body
        article = article_save(
            title=spec.title,
            body=first,
            author=author,
            category=categories[spec.category],
            internal_only=spec.internal_only,
            position=i,
            publish=not spec.draft,
        )
        if first != spec.body:
            article = article_save(
                article=article,
                title=spec.title,
                body=spec.body,
                author=author,
                category=categories[spec.category],
                internal_only=spec.internal_only,
            )
        made[spec.key] = article
    for spec in ARTICLES:
        if spec.related:
            made[spec.key].related.add(*(made[k] for k in spec.related))
    _backdate(made, now)
    for terms in DEMO_SYNONYMS:
        synonym_group_save(terms=terms)
    return len(made)


def _backdate(made: dict[str, Article], now: datetime) -> None:
    """Spread publication dates and reading figures over the last months, as a real help centre has."""
    for spec in ARTICLES:
        article = made[spec.key]
        published = now - timedelta(days=spec.days_ago)
        updated = published + timedelta(days=min(spec.days_ago // 3, 12), hours=3)
        Article.objects.filter(pk=article.pk).update(
            created_at=published - timedelta(hours=2),
            published_at=None if spec.draft else published,
            updated_at=updated,
            view_count=spec.views,
            helpful_yes=spec.yes,
            helpful_no=spec.no,
        )
        versions = list(ArticleVersion.objects.filter(article=article).order_by("number"))
        for n, version in enumerate(versions):
            version.created_at = updated if n == len(versions) - 1 else published - timedelta(hours=2)
        ArticleVersion.objects.bulk_update(versions, ["created_at"])
