"""Build portal/infra/data/common-passwords.txt.gz, the list of common and breached passwords
that sign-up and password changes refuse (portal/infra/passwords.py).

The list is the union, lower-cased, of:
- Django's own list (django/contrib/auth/common-passwords.txt.gz, BSD-3-Clause; Royce
  Williams' list of passwords from breaches), 19,646 entries in Django 6.1;
- zxcvbn's "passwords" frequency list (the zxcvbn package 4.5.0 on PyPI, MIT licence; the
  30,000 most frequent passwords of Mark Burnett's public-domain set of 10 million passwords
  from breaches).

Run it where the zxcvbn package is installed (it is not a dependency of the site):
    python -m venv /tmp/zx && /tmp/zx/bin/pip install zxcvbn==4.5.0 django
    /tmp/zx/bin/python scripts/build_common_passwords.py
"""

from __future__ import annotations

import gzip
from pathlib import Path

import django
from zxcvbn.frequency_lists import FREQUENCY_LISTS

TARGET = Path(__file__).resolve().parent.parent / "portal/infra/data/common-passwords.txt.gz"


def main() -> None:
    django_list = Path(django.__file__).parent / "contrib/auth/common-passwords.txt.gz"
    with gzip.open(django_list, "rt", encoding="utf-8") as source:
        passwords = {line.strip().lower() for line in source if line.strip()}
    passwords |= {password.strip().lower() for password in FREQUENCY_LISTS["passwords"]}
    # mtime=0: the same lists give the same bytes, so a rebuild shows no spurious change.
    with TARGET.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as target:
        target.write("".join(f"{password}\n" for password in sorted(passwords)).encode())
    print(f"{len(passwords)} passwords written to {TARGET}")


if __name__ == "__main__":
    main()
