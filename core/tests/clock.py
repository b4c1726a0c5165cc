"""The suite's one pinned date, so no test depends on the real clock or on another test's choice.

AS_OF is the last day of the data tests score (the end of 2026-Q3); RUN_DAY is the quarterly
run that follows it, the as-of date of the tier runs tests start.
"""

import datetime

AS_OF = datetime.date(2026, 9, 30)
RUN_DAY = AS_OF + datetime.timedelta(days=1)
