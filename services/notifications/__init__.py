"""Notifications: Dutch e-mails over SMTP and signed CloudEvents webhooks, each delivered once."""
