"""The periodic tasks of service commitments (created by a data migration, edited in admin)."""

SLA_SWEEP = "commitments: first-response reminders and breaches, every minute"
PLAYBOOK_SWEEP = "commitments: playbook steps for new tier events, every minute"

PERIODIC_TASKS = [
    (SLA_SWEEP, "commitments.tasks.sla_sweep", ("*", "*", "*", "*", "*"), {}, "Every minute."),
    (PLAYBOOK_SWEEP, "commitments.tasks.playbooks_sweep", ("*", "*", "*", "*", "*"), {}, "Every minute."),
]
