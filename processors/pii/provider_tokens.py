"""Recognizers of the token formats that providers document: a prefix, then a random body.

Written from each provider's published format (prefix, alphabet, length). A token needs no key
word before it: ``dp.pt.…``, ``glpat-…``, ``hvs.…`` are secrets wherever they appear. Formats
are grouped by the character that ends their prefix, so that one cheap gate that starts with a
literal (``re`` finds a literal fast, and a class of first letters slowly) keeps each group's
pattern off the texts that cannot hold one of its tokens: ``_`` (``ghp_``, ``pscale_tkn_``),
``-`` (``glpat-``, ``pypi-``) and ``.`` (``dp.pt.``, ``SG.``, Discord's dotted bot tokens).
Formats without such a separator start with a rare literal (``AKIA``, ``ABSK``, ``LTAI``) or are
found by the literal they hold (``Q~`` of Azure client secrets, ``-us`` of Mailchimp keys).
"""

from __future__ import annotations

import re

from processors.pii.recognizer import BK1, E, Recognizer, after_escape
from processors.pii.secret_checks import is_dot_token, is_token


def _by_first_letter(formats: tuple[str, ...]) -> str:
    """One alternation, its branches grouped by their first letter (a literal ``re`` skips to),
    each checked for a word boundary right after that letter."""
    groups: dict[str, list[str]] = {}
    for source in formats:
        groups.setdefault(source[0], []).append(source[1:])
    return "|".join(f"{first}{BK1}(?:{'|'.join(rests)})" for first, rests in sorted(groups.items()))


# Prefix ends with "_": GitHub, Stripe, Hugging Face, npm, and the formats below.
_UNDERSCORE = (
    r"aio_[A-Za-z0-9]{28}" + E,  # Adafruit IO
    r"bkua_[0-9a-f]{40}" + E,  # Buildkite
    r"CLOJARS_[0-9a-f]{60}" + E,
    r"CCIPAT_[A-Za-z0-9_]{20,}",  # CircleCI
    r"dckr_pat_[A-Za-z0-9_-]{27}" + E,  # Docker Hub
    r"do[por]_v1_[0-9a-f]{64}" + E,  # DigitalOcean
    r"duffel_(?:test|live)_[A-Za-z0-9_-]{43}" + E,
    r"e2b_[0-9a-f]{40}" + E,  # E2B
    r"figd_[A-Za-z0-9_-]{40}" + E,  # Figma
    r"fo1_[A-Za-z0-9_-]{43}" + E,  # Fly.io
    r"gh[pousr]_[A-Za-z0-9]{36,}",  # GitHub
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"gsk_[A-Za-z0-9]{48,}" + E,  # Groq
    r"glc_[A-Za-z0-9+/]{32,}={0,2}",  # Grafana Cloud
    r"glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}" + E,  # Grafana service account
    r"hf_[A-Za-z0-9]{34,}" + E,  # Hugging Face
    r"hcaik_[A-Za-z0-9]{50,}" + E,  # Honeycomb ingest key
    r"lin_api_[A-Za-z0-9]{40}" + E,  # Linear
    r"lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}" + E,  # LangSmith
    r"npm_[A-Za-z0-9]{36,}" + E,
    r"ntn_[A-Za-z0-9]{40,}" + E,  # Notion
    r"ops_eyJ[A-Za-z0-9+/=_-]{100,}",  # 1Password service account
    r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.=-]{32,64}",  # PlanetScale
    r"pnu_[A-Za-z0-9]{36}" + E,  # Prefect
    r"r8_[A-Za-z0-9]{37}" + E,  # Replicate
    r"pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{40,}" + E,  # Pinecone
    # Fireworks AI: random (a digit and an upper-case letter among the first 64: no identifier)
    r"fw_(?=[A-Za-z0-9]{0,63}[0-9])(?=[A-Za-z0-9]{0,63}[A-Z])[A-Za-z0-9]{20,64}" + E,
    r"rk_(?:live|test)_[0-9A-Za-z]{20,}",  # Stripe restricted key
    r"rdme_[a-z0-9]{70}" + E,  # ReadMe
    r"rubygems_[0-9a-f]{48}" + E,
    r"sk_(?:live|test)_[0-9A-Za-z]{20,}",  # Stripe secret key
    r"sk_[0-9a-f]{48}" + E,  # ElevenLabs
    r"sntrys_[A-Za-z0-9+/=_]{40,}",  # Sentry organization token
    r"sntryu_[0-9a-f]{64}" + E,  # Sentry user token
    r"shp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}" + E,  # Shopify
    r"sgp_(?:[0-9a-f]{16}_)?[0-9a-f]{40}" + E,  # Sourcegraph
    r"sbp_[0-9a-f]{40}" + E,  # Supabase
    r"sb_secret_[A-Za-z0-9_-]{20,}",
    r"shippo_(?:live|test)_[0-9a-f]{40}" + E,
    r"secret_[A-Za-z0-9]{43}" + E,  # Notion (older)
    r"tfp_[A-Za-z0-9_.=-]{59}",  # Typeform
    r"tgp_v1_[A-Za-z0-9_-]{43}" + E,  # Together AI
    r"whsec_[0-9A-Za-z]{24,}",  # Stripe webhook signing secret
)

# Prefix ends with "-": GitLab (with the ".01.crc" tail of routable tokens), Slack, PyPI, ...
_DASH = (
    r"CFPAT-[A-Za-z0-9_-]{43}" + E,  # Contentful
    r"FLWSECK(?:_TEST)?-[0-9a-f]{32}-X" + E,  # Flutterwave
    r"GOCSPX-[A-Za-z0-9_-]{28}" + E,  # Google OAuth client secret
    r"HRKU-[A-Za-z0-9_-]{30,}",  # Heroku
    r"NR(?:AK|AA|II|JS|IQ)-[A-Za-z0-9]{19,32}" + E,  # New Relic
    r"PMAK-[0-9a-f]{24}-[0-9a-f]{34}" + E,  # Postman
    r"bedrock-api-key-[A-Za-z0-9+/]{40,}={0,2}",  # Amazon Bedrock short-term key
    r"fc-[0-9a-f]{32}" + E,  # Firecrawl
    r"fio-u-[A-Za-z0-9_-]{64}" + E,  # Frame.io
    r"gl(?:pat|ptt|ft|dt|rtr|rt|cbt|soat|imt|agent|oas|ffct|wt)-[A-Za-z0-9_-]{20,}"
    r"(?:\.[0-9a-z]{2}\.[0-9a-z]{7,10})?" + E,  # GitLab
    r"key-[0-9a-f]{32}" + E,  # Mailgun
    r"nvapi-[A-Za-z0-9_-]{64}" + E,  # NVIDIA API catalog
    r"pypi-Ag[A-Za-z0-9_-]{50,}",
    r"pul-[0-9a-f]{40}" + E,  # Pulumi
    # Voyage AI: random (digits, upper and lower case among the first 48: no kebab-case name)
    r"pa-(?=[A-Za-z0-9_-]{0,47}[0-9])(?=[A-Za-z0-9_-]{0,47}[A-Z])(?=[A-Za-z0-9_-]{0,47}[a-z])"
    r"[A-Za-z0-9_-]{40,48}" + E,
    r"pplx-[A-Za-z0-9]{48}" + E,  # Perplexity
    r"sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}" + E,  # Square
    r"tskey-[a-z]+-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}" + E,  # Tailscale
    r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}" + E,  # Tavily
    r"xox[abposre]-[A-Za-z0-9-]{10,}",  # Slack (xoxe-: a refresh token)
    r"xapp-[A-Za-z0-9-]{10,}",
    r"xai-[A-Za-z0-9]{60,}" + E,  # xAI
    r"xkeysib-[0-9a-f]{64}-[A-Za-z0-9]{16}" + E,  # Brevo
)

# Prefix ends with ".": Doppler, Dynatrace, Mapbox, Vault, Google OAuth, SendGrid, Airtable, Harness,
# Discord.
_DOT = (
    # Doppler; a service token may name its config ("dp.st.prd.…")
    r"dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44}" + E,
    r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}" + E,  # Dynatrace
    r"hv[sbr]\.[A-Za-z0-9_-]{24,}",  # HashiCorp Vault
    r"s\.[A-Za-z0-9]{24}" + E,  # Vault before 1.10 (checked for randomness: is_dot_token)
    r"ya29\.(?:c\.)?[A-Za-z0-9_-]{20,}",  # Google OAuth access token (a service account's: "ya29.c.")
    r"pk\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}",  # Mapbox (public, secret, temporary)
    r"sk\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}",
    r"tk\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}",
    r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + E,  # SendGrid
    r"pat[A-Za-z0-9]{14}\.[0-9a-f]{64}" + E,  # Airtable
    r"pat\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{20}" + E,  # Harness
    # Discord bot: the user id in base64 (a snowflake's digits start it with M, N or O), a
    # timestamp, an HMAC
    r"M[A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + E,
    r"N[A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + E,
    r"O[A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + E,
)

# Starting with "A": AWS access keys (long-term, temporary, and the other key ids), Google API
# keys, Amazon Bedrock long-term keys, Atlassian API tokens, age secret keys.
_A = (
    # and the secret access key right after its id, as the console's CSV, a log line or a client's
    # arguments write the pair ("AKIA…,wJalr…", "AKIA…:wJalr…", '"AKIA…", "wJalr…"', a line
    # each): 40 characters
    r"A(?:KIA|SIA|BIA|CCA)[0-9A-Z]{16}"
    + E
    + r"(?:[\"']?[ \t]*(?:[:,/=;| \t]|\r?\n)[ \t]*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=]))?",
    r"AIza[0-9A-Za-z_-]{35}",
    r"ABSK[A-Za-z0-9+/]{40,}={0,2}",
    r"ATATT3[A-Za-z0-9_=-]{100,}",
    r"AGE-SECRET-KEY-1[0-9A-Z]{58}" + E,
)

# No separator and no common first letter: each found by its prefix (hints).
_BARE = (
    r"dapi[0-9a-f]{32}(?:-\d)?" + E,  # Databricks
    r"LTAI[A-Za-z0-9]{12,20}" + E,  # Alibaba Cloud AccessKey id
    r"SK[0-9a-fA-F]{32}" + E,  # Twilio API key
    r"AC[0-9a-f]{32}:[0-9a-f]{32}" + E,  # Twilio account id and auth token, as basic auth writes them
    r"EZAK[0-9A-Za-z]{54}" + E,  # EasyPost
    r"GR1348941[A-Za-z0-9_-]{20}" + E,  # GitLab runner registration
    r"1//0[A-Za-z0-9_-]{30,}",  # Google OAuth refresh token
)

# Found by a literal inside: Terraform Cloud (".atlasv1."), Azure AD client secrets ("Q~"),
# Mailchimp ("-us" and the data centre).
_INFIX = (
    r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
    r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
    r"[0-9a-f]{32}-us\d{1,2}(?!\d)",
)


def provider_recognizers() -> tuple[Recognizer, ...]:
    """The providers' token formats, entity API_KEY; compiled when called."""
    return (
        Recognizer(
            "API_KEY",
            re.compile(_by_first_letter(_UNDERSCORE)),
            validate=is_token,
            # after its "_": 16 characters of the body (every format here has them)
            hint_pattern=re.compile(r"_[\w-]{16}"),
            marks="_",
            screen=r"_[0-9A-Za-z_\x{80}-\x{10FFFF}-]{16}",
        ),
        Recognizer(
            "API_KEY",
            re.compile(_by_first_letter(_DASH)),
            validate=is_token,
            # after a "-": 13 letters and digits (more than a UUID's last group), or the prefix of
            # a format whose body may have "-" or "_" early or is short
            hint_pattern=re.compile(
                r"-(?:[A-Za-z0-9]{13}|(?<=[A-Za-z]-)(?:(?<=xox[abposre]-)|(?<=xapp-)|(?<=gl[a-z]{2}-)"
                r"|(?<=gl[a-z]{3}-)|(?<=gl[a-z]{4}-)|(?<=glagent-)|(?<=CFPAT-)|(?<=GOCSPX-)|(?<=HRKU-)"
                r"|(?<=sq0[a-z]{3}-)|(?<=fio-u-)|(?<=bedrock-api-key-)|(?<=nvapi-)|(?<=pa-)))"
            ),
            marks="-",
            screen=r"-[A-Za-z0-9]{13}|xox[abposre]-|xapp-|gl[a-z]{2,4}-|glagent-|CFPAT-|GOCSPX-|HRKU-"
            r"|sq0[a-z]{3}-|fio-u-|bedrock-api-key-|nvapi-|pa-",
        ),
        Recognizer(
            "API_KEY",
            re.compile(_by_first_letter(_DOT)),
            validate=is_dot_token,
            hint_pattern=re.compile(r"\.[A-Za-z0-9_-]{20}"),
            marks=".",
            screen=r"\.[A-Za-z0-9_-]{20}",
        ),
        # starts with a literal: re finds it fast; its words let the word screen skip it
        Recognizer(
            "API_KEY",
            re.compile(r"A" + BK1 + "(?:" + "|".join(s[1:] for s in _A) + ")"),
            validate=is_token,
            screen="A(?:KIA|SIA|BIA|CCA|Iza|BSK|TATT3|GE-SECRET-KEY-1)",  # the prefixes of _A
            words=("akia", "asia", "abia", "acca", "aiza", "absk", "atatt3", "age-secret-key-1"),
        ),
        Recognizer(
            "API_KEY",
            re.compile(
                _by_first_letter(_BARE)
                + r"|(?=[A-Za-z0-9_~.-])(?:(?<![A-Za-z0-9_~.-])|"
                + after_escape()
                + ")"
                "(?:" + "|".join(_INFIX) + ")"
            ),
            validate=is_token,
            hints=("dapi", "LTAI", "SK", "AC", "EZAK", "GR1348941", "1//0", ".atlasv1.", "Q~", "-us"),
            screen=r"dapi|LTAI|SK|AC|EZAK|GR1348941|1//0|\.atlasv1\.|Q~|-us",
        ),
        Recognizer(  # Telegram bot: the bot's id, ":", 35 characters (a phone number to look at)
            "API_KEY",
            re.compile(
                r"\d(?:(?<![A-Za-z0-9_\u00c0-\u024f]\d)|(?<=bot\d)|" + after_escape(r"\d") + r")"
                r"\d{7,10}:[A-Za-z0-9_-]{30,40}" + E
            ),
            hint_pattern=re.compile(r":[A-Za-z0-9_-]{30}"),
            marks=":",
            digits=True,
            screen=r":[A-Za-z0-9_-]{30}",
        ),
    )
