#!/usr/bin/env python3
"""Generate configs/mno_prefixes.tsv: the operator (MNO) prefix table for every African calling code.

Source: libphonenumber's carrier prefix data (resources/carrier/en), as shipped by the maintained
PyPI package `phonenumbers` (phonenumbers/carrierdata). The package version is pinned below so a
re-run is reproducible; bump PHONENUMBERS_VERSION and re-run to refresh the table.

Usage: scripts/gen_mno_prefixes.py [OUTPUT]   (default: configs/mno_prefixes.tsv)

If the pinned version is not importable, it is pip-installed into a temporary directory (nothing
is installed system-wide). The output is sorted and deterministic apart from the date line.
"""

import datetime
import os
import re
import subprocess
import sys
import tempfile

PHONENUMBERS_VERSION = "9.0.43"

# ISO 3166-1 alpha-2 regions of Africa (UN M49 "Africa", plus the libphonenumber regions that
# share African calling codes: AC Ascension and TA Tristan da Cunha with St Helena, EH with
# Morocco, YT with Reunion). The calling codes are derived from these, never typed by hand.
AFRICAN_REGIONS = sorted(
    """
    AC AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW IO KE KM LR LS LY MA
    MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TA TD TG TN TZ UG YT ZA ZM ZW
    """.split()
)

# Operator names as the routing layer should see them: one name per operator across all its
# libphonenumber spellings. Names not listed are kept, minus legal-form suffixes.
CANONICAL_NAMES = {
    "at": "AT",  # AirtelTigo Ghana, rebranded "AT" in 2022
    "Congo telecom": "Congo Telecom",
    "CVMOVEL": "CVMovel",
    "Dimemsion Data": "Dimension Data",
    "Econet Ezi-Cel Lesotho": "Econet",
    "Globally Advanced Integrated Networks Ltd": "GAIN",
    "Liquid Intelligent Technology": "Liquid",
    "Malawi Telecom-munications Ltd (MTL)": "MTL",
    "Moov Africa": "Moov",
    "MTN Cameroon": "MTN",
    "Net*One": "NetOne",
    "Network of The World Ltd": "Network of the World",
    "NEXTTEL": "Nexttel",
    "Paratus Africa": "Paratus",
    "QCELL": "QCell",
    "Sudatel Group": "Sudatel",
    "Swazi MTN": "MTN",
    "TE": "Telecom Egypt",
    "TelAfrica (Wirles Connect)": "TelAfrica",
    "Telkom Mobile": "Telkom",
    "UNITEL": "Unitel",
    "Vodacom Lesotho (Pty) Ltd": "Vodacom",
    "Yozma Timeturns sprl -YTT": "YTT",
    "ZAMTEL": "Zamtel",
}

LEGAL_SUFFIX = re.compile(r"\s+(\(Pty\)\s+)?(Ltd|Limited|Plc|PLC|SA|S\.A\.)\.?$")


def load_phonenumbers():
    """Imports the pinned phonenumbers, pip-installing it into a temporary directory if needed."""
    try:
        import phonenumbers

        if phonenumbers.__version__ == PHONENUMBERS_VERSION:
            return phonenumbers
    except ImportError:
        pass
    target = tempfile.mkdtemp(prefix="phonenumbers-")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--root-user-action=ignore",
         "--target", target, f"phonenumbers=={PHONENUMBERS_VERSION}"],
        check=True,
    )
    sys.path.insert(0, target)
    for name in [m for m in sys.modules if m == "phonenumbers" or m.startswith("phonenumbers.")]:
        del sys.modules[name]
    import phonenumbers

    assert phonenumbers.__version__ == PHONENUMBERS_VERSION, phonenumbers.__version__
    return phonenumbers


def canonical(name):
    name = CANONICAL_NAMES.get(name, name)
    return LEGAL_SUFFIX.sub("", name).strip()


def slug(country, name):
    """The stable route key, e.g. ("KE", "Safaricom") -> "ke-safaricom"."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{country.lower()}-{s}"


def region_for_prefix(pn, prefix, code, regions):
    """For a calling code shared by several regions, the region whose numbering plan accepts a
    number starting with `prefix` (tried by padding the prefix to each possible length)."""
    if len(regions) == 1:
        return regions[0]
    national = prefix[len(str(code)):]
    for region in regions:
        meta = pn.PhoneMetadata.metadata_for_region(region)
        for length in meta.general_desc.possible_length or ():
            if length < len(national):
                continue
            for fill in "0123456789":
                number = pn.PhoneNumber(
                    country_code=code, national_number=int(national + fill * (length - len(national)))
                )
                if pn.is_valid_number_for_region(number, region):
                    return region
    return pn.region_code_for_country_code(code)


def build_rows(pn):
    from phonenumbers.carrierdata import CARRIER_DATA

    codes = {}
    for code, regions in pn.COUNTRY_CODE_TO_REGION_CODE.items():
        african = [r for r in regions if r in AFRICAN_REGIONS]
        if african:
            # The code's main region first, so it is preferred for ambiguous prefixes.
            codes[code] = sorted(african, key=lambda r: (r != regions[0], r))
    missing = set(AFRICAN_REGIONS) - {r for rs in codes.values() for r in rs}
    assert not missing, f"regions without a calling code: {missing}"

    rows = {}
    for code, regions in codes.items():
        # Country-only rows: the calling code itself, and a sub-region's simple leading digits.
        rows[str(code)] = (regions[0], "", "")
        for region in regions[1:]:
            leading = pn.PhoneMetadata.metadata_for_region(region).leading_digits
            if leading and re.fullmatch(r"[0-9]+(\|[0-9]+)*", leading):
                for digits in leading.split("|"):
                    rows[f"{code}{digits}"] = (region, "", "")
        for prefix, names in CARRIER_DATA.items():
            if not prefix.startswith(str(code)) or not names.get("en"):
                continue
            # A prefix of a longer calling code is not this code's (none overlap in Africa today).
            if any(prefix.startswith(str(c)) and len(str(c)) > len(str(code)) for c in codes):
                continue
            region = region_for_prefix(pn, prefix, code, regions)
            name = canonical(names["en"])
            rows[prefix] = (region, slug(region, name), name)
    return rows


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "configs", "mno_prefixes.tsv")
    pn = load_phonenumbers()
    rows = build_rows(pn)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    with open(out, "w", encoding="utf-8") as f:
        f.write(
            "# Operator (MNO) prefix table for every African calling code. Longest prefix wins.\n"
            "# Source: libphonenumber carrier data (resources/carrier/en, Apache-2.0) from the PyPI\n"
            f"# package phonenumbers=={PHONENUMBERS_VERSION}, generated {today} by"
            " scripts/gen_mno_prefixes.py.\n"
            "# Do not edit by hand: change the script (name normalisation) and re-run it.\n"
            "# Columns: prefix (E.164 digits after +) TAB country (ISO 3166-1 alpha-2) TAB mno_id\n"
            "# TAB operator. Empty mno_id and operator: the prefix resolves to a country only.\n"
        )
        for prefix in sorted(rows):
            region, mno_id, name = rows[prefix]
            f.write(f"{prefix}\t{region}\t{mno_id}\t{name}\n")
    per_country = {}
    for region, mno_id, _ in rows.values():
        per_country.setdefault(region, 0)
        per_country[region] += 1 if mno_id else 0
    print(f"wrote {len(rows)} rows to {out}", file=sys.stderr)
    print(" ".join(f"{r}:{n}" for r, n in sorted(per_country.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
