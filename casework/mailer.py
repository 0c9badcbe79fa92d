"""E-mail to staff through an SMTP server (the standard library's smtplib).

On when ``SAWTI_SMTP_HOST`` is set. Errors are reported without the recipient's address
(servers echo it in their replies): only the error's kind and SMTP code are kept.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from casework.notifications import DeliveryError
from config.settings import Settings

# SMTP reply codes that will not change on a retry (mailbox unknown, policy refusal...).
PERMANENT_CODES = range(500, 600)


class Mailer:
    def __init__(self, host: str, port: int, *, sender: str, user: str | None = None,
                 password: str | None = None, starttls: bool = True,
                 timeout: float = 15.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls = user, password, starttls
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        host = settings.sawti_smtp_host
        if not host:
            return None
        sender = settings.sawti_smtp_from or settings.sawti_smtp_user or f"sawti@{host}"
        return cls(host, settings.sawti_smtp_port, sender=sender,
                   user=settings.sawti_smtp_user, password=settings.sawti_smtp_password,
                   starttls=settings.sawti_smtp_starttls,
                   timeout=settings.sawti_provider_timeout_seconds)

    def send(self, address: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _text in error.recipients.values()})
            raise DeliveryError(f"smtp recipient refused: {codes}",
                                permanent=all(code in PERMANENT_CODES for code in codes)
                                ) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"smtp {type(error).__name__}: {error.smtp_code}",
                                permanent=error.smtp_code in PERMANENT_CODES
                                and not isinstance(error, smtplib.SMTPAuthenticationError)
                                ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"smtp {type(error).__name__}") from None
