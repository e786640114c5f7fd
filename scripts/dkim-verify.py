#!/usr/bin/env python3
"""Verifies a message's DKIM signature with dkimpy (PyPI), an implementation independent
of ours, reading the public key from a PEM file instead of DNS.

Usage: dkim-verify.py MESSAGE.eml PUBLIC_KEY.pem SELECTOR DOMAIN
Prints "pass" and exits 0 when the signature verifies for SELECTOR._domainkey.DOMAIN.
scripts/smtp-tools.sh installs dkimpy into the tests' venv.
"""
import sys

import dkim

message_path, key_path, selector, domain = sys.argv[1:5]
message = open(message_path, "rb").read()
pem = open(key_path, "rb").read().decode()
# The TXT record: the base64 of the SubjectPublicKeyInfo, as in the PEM body.
body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
record = f"v=DKIM1; k=rsa; p={body}".encode()
expected = f"{selector}._domainkey.{domain}."
asked = []


def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    asked.append(name)
    return record if name == expected else b""


ok = dkim.verify(message, dnsfunc=dnsfunc)
print("pass" if ok else f"fail (asked for {asked})")
sys.exit(0 if ok else 1)
