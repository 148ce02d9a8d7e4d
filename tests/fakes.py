"""Fakes of our own interfaces (never of third-party code)."""

from workflows.payloads import DeliveryInput


class RecordingNotifier:
    """A Notifier that records deliveries instead of sending them; can be told to fail."""

    def __init__(self) -> None:
        self.deliveries: list[DeliveryInput] = []
        self.failing = False

    async def deliver(self, delivery: DeliveryInput) -> list[str]:
        if self.failing:
            raise ConnectionError("mail server unreachable")
        self.deliveries.append(delivery)
        return ["email"]

    def of(self, purpose: str) -> list[DeliveryInput]:
        return [d for d in self.deliveries if d.purpose == purpose]
