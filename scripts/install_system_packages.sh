#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing:
# chromium and chromium-driver (end-to-end tests drive /usr/bin/chromium), gettext (msgfmt, xgettext) and
# Pango (WeasyPrint lays out the PDF statements and shapes Arabic with it).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "Missing system packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
