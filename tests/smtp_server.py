"""A real local SMTP server for the email tests (aiosmtpd on 127.0.0.1, a free port): it records every
envelope it accepts and answers DATA from a script (e.g. 451 then 250), 250 once the script is empty."""

from __future__ import annotations

import socket
import ssl
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpRecorder:
    received: list[Received] = field(default_factory=list)
    script: deque = field(default_factory=deque)  # DATA answers, e.g. "451 4.3.0 Try again later"
    logins: dict[str, str] = field(default_factory=dict)  # user -> password it accepts
    port: int = 0

    def answer(self, *replies: str) -> None:
        self.script.extend(replies)

    drop_during_data: bool = False  # close the connection instead of answering DATA (a line that drops)
    dropped: int = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.drop_during_data:
            self.dropped += 1
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        reply = self.script.popleft() if self.script else "250 Message accepted for delivery"
        if reply.startswith("250"):
            login = session.auth_data.login.decode() if session.auth_data else None
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, login))
        return reply

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and self.logins.get(auth_data.login.decode()) == auth_data.password.decode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """Start with `with SmtpServer() as recorder:`; recorder.port is where it listens.

    `tls`: "starttls" (plain, STARTTLS required before MAIL) or "implicit" (TLS from the first byte), with
    `context` (the server's certificate); the default is plain SMTP."""

    def __init__(self, tls: str | None = None, context: ssl.SSLContext | None = None) -> None:
        self.recorder = SmtpRecorder(port=free_port())
        kwargs: dict = {}
        if tls == "starttls":
            kwargs = {"tls_context": context, "require_starttls": True}
        elif tls == "implicit":
            kwargs = {"ssl_context": context}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.recorder.port,
                                     authenticator=self.recorder.authenticate, auth_require_tls=False, **kwargs)

    def __enter__(self) -> SmtpRecorder:
        self.controller.start()
        return self.recorder

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
