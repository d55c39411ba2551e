"""Writes the `scruple audit` speed test data (docs/performance.md):

    python3 scripts/audit-bench-data.py DIR [ROWS] [RECIPIENTS]

DIR/attributes.csv: RECIPIENTS recipients (default 1,000,000) with gender
and age_band; DIR/outcomes.csv: ROWS outcome rows (default 10,000,000) over
10 campaigns, with channel, day, delivered, offer_made, unsubscribed and
complained. Deterministic (fixed seed); about 40 bytes a row.
"""

import random
import sys

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
people = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
rng = random.Random(15)
genders = ["f", "m", "x"]
bands = ["18-24", "25-39", "40-59", "60+"]
with open(f"{out}/attributes.csv", "w") as f:
    f.write("recipient,gender,age_band\n")
    lines = []
    for i in range(people):
        lines.append(f"r{i},{genders[i % 3]},{bands[(i // 3) % 4]}\n")
        if len(lines) == 100_000:
            f.write("".join(lines))
            lines = []
    f.write("".join(lines))
with open(f"{out}/outcomes.csv", "w") as f:
    f.write("recipient,campaign,channel,time,delivered,offer_made,unsubscribed,complained\n")
    lines = []
    for i in range(rows):
        r = rng.randrange(people)
        x = rng.random()
        # Older recipients get the offer less often in campaign c7.
        offer = x < (0.08 if (r // 3) % 4 == 3 and i % 10 == 7 else 0.14)
        lines.append(
            f"r{r},c{i % 10},email,2026-11-{1 + i % 28:02},1,{int(offer)},{int(x > 0.996)},{int(x > 0.9995)}\n"
        )
        if len(lines) == 100_000:
            f.write("".join(lines))
            lines = []
    f.write("".join(lines))
