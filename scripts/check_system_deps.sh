#!/usr/bin/env bash
# System packages vetvol needs: Chromium (browser tests), Noto CJK fonts (Chinese in PDFs and screenshots),
# poppler-utils (reading PDFs back in tests), Pango (WeasyPrint renders certificates through it). Installed with apt-get when missing and running as root;
# otherwise stop at once with the exact command to run. Never a silent skip.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
# WeasyPrint (certificates) renders through Pango.
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so" || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "The tests need system packages that are missing: ${missing[*]}" >&2
echo "Install them, then run 'make test' again:" >&2
echo "  sudo apt-get install -y ${missing[*]}" >&2
exit 1
