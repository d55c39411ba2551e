"""Writes the audit inputs of ../fairness.tests.yaml (deterministic):

    python3 make_data.py

qa12-*: the selection rates of Q. 12 of the Questions and Answers to
Clarify and Provide a Common Interpretation of the Uniform Guidelines on
Employee Selection Procedures (EEOC, DOL, DOJ, OPM, 1979): 60%, 45%, 48%
and 51%, on 200 people a group, carried onto age bands (the fairness pack audits gender and
age_band). small-*: 40 a group at 60% and 45%, the same ratio on numbers
too small to be significant (29 CFR 1607.4(D), last sentence).
spam-high: 4,000 delivered emails with 14 spam complaints (0.35%) and 8
unsubscribes (0.2%); spam-low: 10,000 with 5 complaints (0.05%) and 20
unsubscribes (0.2%); spam-recommended: 10,000 with 15 complaints (0.15%)
and 60 unsubscribes (0.6%). Sources: Gmail and Yahoo bulk-sender
requirements (February 2024: below 0.3%), Google's recommended 0.10%,
the pack's own 0.5% opt-out limit.
"""

GROUPS = {
    "qa12-adverse": [("25-39", 120, 200), ("60+", 90, 200)],
    "qa12-fair": [("25-39", 120, 200), ("40-59", 96, 200), ("18-24", 102, 200)],
    "small": [("25-39", 24, 40), ("60+", 18, 40)],
}

for name, groups in GROUPS.items():
    with open(f"{name}-attributes.csv", "w") as a, open(f"{name}-outcomes.csv", "w") as o:
        a.write("recipient,age_band\n")
        o.write("recipient,campaign,category,offer_made\n")
        for band, offered, size in groups:
            for i in range(size):
                rid = f"{band}-{i}"
                a.write(f"{rid},{band}\n")
                o.write(f"{rid},job-ads,employment,{int(i < offered)}\n")

for name, rows, complaints, unsubscribes in [
    ("spam-high", 4000, 14, 8),
    ("spam-low", 10000, 5, 20),
    ("spam-recommended", 10000, 15, 60),
]:
    with open(f"{name}-outcomes.csv", "w") as o:
        o.write("recipient,campaign,channel,delivered,complained,unsubscribed\n")
        for i in range(rows):
            o.write(f"r{i},newsletter,email,1,{int(i < complaints)},{int(i % (rows // unsubscribes) == 7)}\n")
