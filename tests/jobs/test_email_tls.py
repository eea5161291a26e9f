"""Send Email over STARTTLS and implicit TLS (SMTPS) to a real local SMTP server with its own certificate,
which the client verifies (host name included), and a connection dropped during the send: the email is
marked unknown and never sent again."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from builder.extensions import db
from builder.integrations import email_settings
from builder.models import Email
from jobqueue import recovery
from jobqueue.enroll import create_request
from tests.factories import make_contact, make_workflow, run_jobs
from tests.smtp_server import SmtpServer

FLOW = {"name": "Welcome", "start": "e", "steps": {"e": {"type": "send_email", "config": {
    "subject": "Welcome, {{ contact.first_name }}", "text_body": "Hi {{ contact.first_name }}."}, "next": None}}}


@pytest.fixture
def certificate(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by the client as its CA bundle (SSL_CERT_FILE is
    read by OpenSSL each time a default context loads its certificates)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowdesk test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def send(app, account, port: int, security: str) -> Email:
    app.config["PUBLIC_URL"] = "https://flowdesk.example"
    app.config["EMAIL_RETRY_DELAYS"] = []
    email_settings.save(account.id, host="127.0.0.1", port=port, security=security, username="mailer",
                        password="s3cret-pass", from_address="hello@acme.test", from_name=None, reply_to=None,
                        user_id=None)
    db.session.commit()
    contact = make_contact(account, first_name="Ann", email="ann@example.com")
    wf = make_workflow(account, FLOW)
    create_request(wf, wf.published_version, [contact.id], is_test=False)
    run_jobs(app)
    db.session.expire_all()
    return db.session.scalars(select(Email)).one()


@pytest.mark.parametrize("security", ["starttls", "implicit"])
def test_the_email_goes_over_tls_with_the_servers_certificate_verified(app, account, certificate, security):
    with SmtpServer(tls=security, context=certificate) as smtp:
        smtp.logins["mailer"] = "s3cret-pass"
        email = send(app, account, smtp.port, "tls" if security == "implicit" else "starttls")
    assert (email.status, email.provider) == ("sent", "smtp")
    [got] = smtp.received
    assert got.login == "mailer" and got.message["Subject"] == "Welcome, Ann"


def test_a_certificate_the_client_cannot_verify_is_refused_and_nothing_is_sent(app, account, certificate,
                                                                               monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's CAs do not know the test certificate
    with SmtpServer(tls="starttls", context=certificate) as smtp:
        smtp.logins["mailer"] = "s3cret-pass"
        email = send(app, account, smtp.port, "starttls")
    assert email.status == "failed" and "certificate" in email.error.lower()
    assert smtp.received == []


def test_plain_smtp_to_a_server_that_requires_starttls_fails_with_its_reply(app, account, certificate):
    with SmtpServer(tls="starttls", context=certificate) as smtp:
        email = send(app, account, smtp.port, "none")
    assert email.status == "failed" and email.error_code == "530"
    assert smtp.received == []


def test_a_connection_dropped_during_the_send_is_marked_unknown_and_never_sent_again(app, account):
    with SmtpServer() as smtp:
        smtp.logins["mailer"] = "s3cret-pass"
        smtp.drop_during_data = True
        email = send(app, account, smtp.port, "none")
        assert (email.status, email.error_code) == ("unknown", "cut_short")
        assert recovery.reconcile()["unsent_emails"] == 0
        run_jobs(app)
    assert smtp.received == [] and smtp.dropped == 1
