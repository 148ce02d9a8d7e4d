"""Demo users for development sign-in and for the demo data: one per role, with a few organisations."""

from dataclasses import dataclass

from services.auth import Role


@dataclass(frozen=True)
class DemoUser:
    key: str
    role: Role
    org: str
    sub: str
    title: str


DEMO_USERS = {
    user.key: user
    for user in (
        DemoUser(
            "coordinator", Role.COORDINATOR, "nfia", "coordinator@nfia.nl", "Coördinator taskforce (NFIA)"
        ),
        DemoUser("taskforce-bom", Role.TASKFORCE, "bom", "anna.devries@bom.nl", "Taskforce BOM (Zuid)"),
        DemoUser(
            "taskforce-oost-nl", Role.TASKFORCE, "oost-nl", "joost.bakker@oostnl.nl", "Taskforce Oost NL"
        ),
        DemoUser(
            "taskforce-innovationquarter",
            Role.TASKFORCE,
            "innovationquarter",
            "fatima.elamrani@innovationquarter.nl",
            "Taskforce InnovationQuarter (West)",
        ),
        DemoUser("taskforce-nom", Role.TASKFORCE, "nom", "sanne.mulder@nom.nl", "Taskforce NOM (Noord)"),
        DemoUser(
            "partner-gelderland",
            Role.PARTNER,
            "provincie-gelderland",
            "loket@gelderland.example",
            "Partner: Provincie Gelderland",
        ),
        DemoUser("partner-tennet", Role.PARTNER, "tennet", "klantloket@tennet.example", "Partner: TenneT"),
        DemoUser("auditor", Role.AUDITOR, "adr", "auditor@adr.example", "Auditor (Auditdienst Rijk)"),
        DemoUser("ministry", Role.MINISTRY, "ministerie-ez", "beleid@ez.example", "Ministerie van EZ"),
    )
}
