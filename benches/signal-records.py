#!/usr/bin/env python3
"""JSON Lines recipients carrying consent signals, for the issue 13 speed
figures in docs/performance.md (a release `scruple gate` run, not a bench).

    python3 benches/signal-records.py MODE COUNT > records.jsonl

MODE is one of
  none      no signal fields (the baseline)
  same      the same TC string and US GPP string in every record
  distinct  a different TC string and a different US GPP string in every
            record: the TC string's Created/LastUpdated count up by one
            decisecond per record, and the usnat section's sixteen
            SensitiveDataProcessing values spell the record number in base 3
  gpp-tcf   a different GPP string per record whose tcfeuv2 section is the
            TC string (Created varied as above), and a distinct `tcf` too

The TC string is the typical one of benches/gate.rs (`@iabtechlabtcf/core`:
100 vendors among ids up to 1,200, purposes 1-11, DisclosedVendors); the
US GPP string is the one of benches/signals.rs (`@iabgpp/cmpapi`: usnat v2
with GPC, usca with GPC). Both stay valid: only values the specifications
allow are written.
"""
import json
import sys

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
INDEX = {c: i for i, c in enumerate(ALPHABET)}

TC = (
    "CQraFkAQraFkAAKABBFRCWEoAP_gAEPgAAqIJWoAAAACIEAAAAggiQQEAAAAAAIAAAAEIAAAAgAACgKgQAEAECAAggAAAABBCIwABAAAAAgABAAiAABgAgQAAIAACAAAiYCAAAIAAEAAQAAIQACAABAAAgACESIgADAAkAAAAAgACgICAAAAAGAAAAlAAAAEESAAIABAQBACAEIgIABAQYAACAAAAIAgCAAAAAAAAAACBCCVsDkAEIAJQAWABHACaAFMAK4AWgA0ACwAFqAOkAeIA9QB-AEdgLOAtABeADLgGogOYA5oB4AD5gIrASoAnwBRYCngFYgLBAWMAs0BaIC5gF5gMXAZOAymBrgGugN3Ab0A3wB2oDxAHmAPWAfYA_ECBgEFAINAQvAiWBFUCUIEqAJWgAAA"
    ".IJWoAAAACIEAAAAggiQQEAAAAAAIAAAAEIAAAAgAACgKgQAEAECAAggAAAABBCIwABAAAAAgABAAiAABgAgQAAIAACAAAiYCAAAIAAEAAQAAIQACAABAAAgACESIgADAAkAAAAAgACgICAAAAAGAAAAlAAAAEESAAIABAQBACAEIgIABAQYAACAAAAIAgCAAAAAAAAAACBCA"
)
GPP_US_HEADER, GPP_US_NAT, GPP_US_REST = "DBABrw", "CVQpAAAAAACA", ".YA~BAQAAABA.QA"


def bits_of(text):
    return "".join(format(INDEX[c], "06b") for c in text)


def text_of(bits):
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def put(bits, at, width, value):
    return bits[:at] + format(value, f"0{width}b") + bits[at + width :]


CORE, DISCLOSED = TC.split(".")
CORE_BITS = bits_of(CORE)
CREATED = int(CORE_BITS[6:42], 2)
NAT_BITS = bits_of(GPP_US_NAT)


def tc_string(n):
    # Created (36 bits at 6) and LastUpdated (36 bits at 42).
    b = put(CORE_BITS, 6, 36, CREATED + n)
    b = put(b, 42, 36, CREATED + n)
    return text_of(b) + "." + DISCLOSED


def us_gpp(n):
    # usnat v2: Version (6), nine two-bit fields, then sixteen
    # SensitiveDataProcessing values (0, 1 or 2) from bit 24.
    b = NAT_BITS
    for k in range(16):
        b = put(b, 24 + 2 * k, 2, n % 3)
        n //= 3
    return GPP_US_HEADER + "~" + text_of(b) + GPP_US_REST


def main():
    mode, count = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    for n in range(count):
        rec = {
            "id": f"r{n}",
            "jurisdiction": "EU-FR",
            "age": 30,
            "purchase_count": 3,
            "consents": {
                "email_marketing": {"granted_at": "2026-10-01"},
                "targeted_advertising": {"granted_at": "2026-10-01"},
            },
        }
        if mode == "same":
            rec["tcf"], rec["gpp"] = tc_string(0), us_gpp(0)
        elif mode == "distinct":
            rec["tcf"], rec["gpp"] = tc_string(n), us_gpp(n)
        elif mode == "gpp-tcf":
            tc = tc_string(n)
            rec["tcf"], rec["gpp"] = tc, "DBABMA~" + tc
        elif mode != "none":
            sys.exit(f"unknown mode {mode}")
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
