"""The periodic tasks of service commitments (created by a data migration, edited in admin)."""

SLA_SWEEP = "commitments: first-response reminders and breaches, every minute"
PLAYBOOK_SWEEP = "commitments: playbook steps for new tier events, every minute"
RESULTS_REFRESH = "commitments: company-wide results per tier and quarter into the cache, every five minutes"

PERIODIC_TASKS = [
    (SLA_SWEEP, "commitments.tasks.sla_sweep", ("*", "*", "*", "*", "*"), {}, "Every minute."),
    (PLAYBOOK_SWEEP, "commitments.tasks.playbooks_sweep", ("*", "*", "*", "*", "*"), {}, "Every minute."),
    (
        RESULTS_REFRESH,
        "commitments.tasks.results_refresh",
        ("*/5", "*", "*", "*", "*"),
        {},
        "Every five minutes (the cached figures live ten).",
    ),
]
