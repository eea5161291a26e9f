"""Email providers: SMTP with the account's (or the environment's) settings, else the console provider,
which sends nothing: the email is recorded in the contact's conversation as simulated.

Every email carries List-Unsubscribe (the link, and List-Unsubscribe-Post for RFC 8058 one-click) and an
unsubscribe link at the end of its text and HTML bodies.
"""

from __future__ import annotations

import html as html_lib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Protocol

from flask import current_app

from builder.integrations import email_settings
from builder.integrations.email_settings import SmtpSettings

log = logging.getLogger("flowdesk.email")
CONSOLE_FROM = "flowdesk@localhost"


class EmailError(Exception):
    """The email was not (or may not have been) sent. `code`: the SMTP reply code, or our own word.

    retryable: nothing was sent and trying later may work (4xx, no connection).
    uncertain: the server may have taken it (the line dropped during the send): never send it again.
    """

    def __init__(self, message: str, code: str | None = None, retryable: bool = False, uncertain: bool = False):
        super().__init__(message)
        self.code, self.retryable, self.uncertain = code, retryable, uncertain


@dataclass(frozen=True)
class OutgoingEmail:
    id: int
    to: str
    subject: str
    text: str
    html: str | None
    unsubscribe_url: str | None  # None: to a team member (a notification's copy), not a contact
    message_id: str  # the same on every attempt, so a receiver can tell a repeat


class EmailProvider(Protocol):
    name: str
    settings: SmtpSettings | None

    def send(self, email: OutgoingEmail) -> None: ...


def build_message(email: OutgoingEmail, from_address: str, from_name: str | None,
                  reply_to: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((from_name or "", from_address))
    message["To"] = email.to
    message["Subject"] = email.subject
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.message_id
    if email.unsubscribe_url is None:
        message.set_content(f"{email.text.rstrip()}\n")
        return message
    message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(f"{email.text.rstrip()}\n\n--\nUnsubscribe: {email.unsubscribe_url}\n")
    if email.html:
        link = html_lib.escape(email.unsubscribe_url, quote=True)
        message.add_alternative(
            f'{email.html}\n<p style="font-size:12px;color:#666"><a href="{link}">Unsubscribe</a></p>\n',
            subtype="html")
    return message


class ConsoleEmailProvider:
    name = "console"
    settings = None

    def send(self, email: OutgoingEmail) -> None:
        log.info("console email %s to %s: %s", email.id, email.to, email.subject)


class SmtpProvider:
    name = "smtp"

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send(self, email: OutgoingEmail) -> None:
        s = self.settings
        message = build_message(email, s.from_address, s.from_name, s.reply_to)
        timeout = float(current_app.config.get("SMTP_TIMEOUT_SECONDS") or 30)
        try:
            server = self._connect(timeout)
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPException) as exc:  # nothing was sent
            raise EmailError(f"could not reach the SMTP server {s.host}:{s.port}: {exc}", code="connection",
                             retryable=True) from None
        try:
            server.send_message(message, from_addr=s.from_address, to_addrs=[email.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_code(code, reply) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, or the data
            raise _by_code(exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise EmailError(f"the connection to the SMTP server broke during the send: {exc}", code="cut_short",
                             uncertain=True) from None
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()

    def _connect(self, timeout: float) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=timeout)
        try:
            server.ehlo()
            if s.security == "starttls":
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if s.username:
                server.login(s.username, s.password or "")
        except BaseException:
            server.close()
            raise
        return server


def _by_code(code: int, reply: bytes | str) -> EmailError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    message = f"the SMTP server answered {code} {text}".strip()
    return EmailError(message, code=str(code), retryable=400 <= code < 500)


def get_provider(account_id: int) -> EmailProvider:
    """SMTP with the account's settings (or the environment's); the console provider without any."""
    try:
        settings = email_settings.settings_for(account_id)
    except email_settings.UnreadablePassword as exc:
        raise EmailError(str(exc), code="not_configured") from None
    return SmtpProvider(settings) if settings is not None else ConsoleEmailProvider()
