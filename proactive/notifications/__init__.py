"""Notifications: an outbox delivered by e-mail, SMS and letter, with retries.

Wiring::

    outbox = OutboxStore(database)
    renderer = Renderer(base_url="https://unefois.example.gouv.fr")
    channels = {"email": EmailChannel(...), "sms": SmsChannel(...), "letter": LetterChannel(...)}
    dispatcher = Dispatcher(outbox, channels, clock, renderer=renderer)
    counts = await dispatcher.run_once(limit=100)
"""

from proactive.notifications.channels import Channel, EmailChannel, LetterChannel, SmsChannel
from proactive.notifications.dispatcher import DispatchCounts, Dispatcher
from proactive.notifications.errors import DeliveryError, PermanentFailure, TemporaryFailure
from proactive.notifications.rendering import Rendered, Renderer

__all__ = [
    "Channel",
    "DeliveryError",
    "DispatchCounts",
    "Dispatcher",
    "EmailChannel",
    "LetterChannel",
    "PermanentFailure",
    "Rendered",
    "Renderer",
    "SmsChannel",
    "TemporaryFailure",
]
