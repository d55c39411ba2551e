"""Writes the audit inputs of ../fairness.tests.yaml (deterministic):

    python3 make_data.py

qa12-*: the selection rates of Q. 12 of the Questions and Answers to
Clarify and Provide a Common Interpretation of the Uniform Guidelines on
Employee Selection Procedures (EEOC, DOL, DOJ, OPM, 1979): 60%, 45%, 48%
and 51%, on 200 people a group, carried onto age bands (the fairness pack audits gender and
age_band). small-*: 40 a group at 60% and 45%, the same ratio on numbers
too small to be significant (29 CFR 1607.4(D), last sentence).
spam-*: 4,000 delivered emails with 14 (0.35%) or 4 (0.10%) spam
complaints and 8 (0.2%) unsubscribes (Gmail and Yahoo bulk-sender
requirements, February 2024: below 0.3%).
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

for name, complaints in [("spam-high", 14), ("spam-low", 4)]:
    with open(f"{name}-outcomes.csv", "w") as o:
        o.write("recipient,campaign,channel,delivered,complained,unsubscribed\n")
        for i in range(4000):
            o.write(f"r{i},newsletter,email,1,{int(i < complaints)},{int(i % 500 == 7)}\n")
