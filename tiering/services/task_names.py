"""The names of the Celery tasks the services enqueue.

tiering.tasks imports the services (each task is a thin wrapper around one), so the services never
import the task module back: they send Celery signatures by these names, and tasks.py registers
each task under the name defined here. `Signature.apply_async` looks the name up in the app's task
registry, so in eager mode (tests, development without a broker) the task still runs in-process;
that needs tiering.tasks imported (registered) in the sending process as well.
"""

TIER_RUN_CHUNK = "tiering.tasks.tier_run_chunk"
TIER_RUN_CLOSE = "tiering.tasks.tier_run_close"
REEVALUATE_CUSTOMERS = "tiering.tasks.reevaluate_customers"
