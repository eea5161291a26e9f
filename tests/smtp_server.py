"""A real local SMTP server for the email tests (aiosmtpd on 127.0.0.1, a free port): it records every
envelope it accepts and answers DATA from a script (e.g. 451 then 250), 250 once the script is empty."""

from __future__ import annotations

import socket
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

    async def handle_DATA(self, server, session, envelope) -> str:
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
    """Start with `with SmtpServer() as recorder:`; recorder.port is where it listens."""

    def __init__(self) -> None:
        self.recorder = SmtpRecorder(port=free_port())
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.recorder.port,
                                     authenticator=self.recorder.authenticate, auth_require_tls=False)

    def __enter__(self) -> SmtpRecorder:
        self.controller.start()
        return self.recorder

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
