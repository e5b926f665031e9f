#!/usr/bin/env bash
# Regenerate the screenshots in docs/img/ from a fresh `payseg demo`.
#
#   bash docs/screenshots.sh            # from the repository root, after `make .venv/bin/.installed`
#
# Needs Debian's chromium (apt-get install -y chromium) and, for the workbook picture,
# LibreOffice and poppler (apt-get install -y --no-install-recommends
# libreoffice-calc-nogui poppler-utils); without them that picture is skipped. Neither
# is needed by the tests or CI. Chromium is pointed at the CJK font that payseg's
# dependency pylopdf-fonts-zh-cn installs, so Chinese text is drawn on a machine
# without system CJK fonts. Pictures are shrunk with Pillow to stay under 300 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PAYSEG=${PAYSEG:-.venv/bin/payseg}
IMG=docs/img
CUSTOMERS=${CUSTOMERS:-3000}
mkdir -p "$IMG"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PAYSEG" demo --out "$tmp/demo" --customers "$CUSTOMERS" --seed 0 -q

# fontconfig: the system configuration plus the packaged Noto Sans SC.
fontdir=$("$PY" -c 'import pylopdf_fonts_zh_cn as f; print(f.sans_path().parent)')
cat > "$tmp/fonts.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>$fontdir</dir>
  <cachedir>$tmp/fontcache</cachedir>
</fontconfig>
EOF
export FONTCONFIG_FILE="$tmp/fonts.conf"

shoot() {  # shoot NAME SECTION-ID|top
  local name=$1 section=$2 page="$tmp/demo/report.html"
  if [ "$section" != top ]; then
    # Show only that section: a copy of the report with the others hidden.
    page="$tmp/$name.html"
    sed "s|</style>|main > header, main > section:not(#$section), footer { display: none; }</style>|" \
      "$tmp/demo/report.html" > "$page"
  fi
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$tmp")" --hide-scrollbars \
    --window-size=1280,2000 --screenshot="$tmp/$name.png" "file://$page" \
    >/dev/null 2>&1
}
shoot report_top top
shoot report_data data
shoot report_regions regions
shoot report_segments segments

if command -v soffice >/dev/null && command -v pdftoppm >/dev/null; then
  # The staff workbook as LibreOffice prints it: the read-me and the VIP list (a copy
  # of the workbook with only those two sheets, each printing as one page).
  "$PY" -c '
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
for ws in wb.worksheets[1:]:
    if ws.title != "VIP客户":
        wb.remove(ws)
wb.save(sys.argv[2])
' "$tmp/demo/workbook.xlsx" "$tmp/workbook.xlsx"
  (cd "$tmp" && HOME="$tmp" soffice --headless --convert-to pdf workbook.xlsx \
    >/dev/null 2>&1) || true
  if [ -f "$tmp/workbook.pdf" ]; then
    pdftoppm -png -r 80 -f 1 -l 2 "$tmp/workbook.pdf" "$tmp/workbook_page"
    mv "$tmp"/workbook_page*1.png "$tmp/workbook_readme.png"
    mv "$tmp"/workbook_page*2.png "$tmp/workbook_vip.png"
  fi
else
  echo "LibreOffice or pdftoppm missing: workbook picture skipped" >&2
fi

# Trim the empty page background at the bottom, then shrink to < 300 KB.
"$PY" - "$tmp" "$IMG" <<'EOF'
import pathlib
import sys

from PIL import Image, ImageChops

src, dst = map(pathlib.Path, sys.argv[1:])
for png in sorted(src.glob("*.png")):
    im = Image.open(png).convert("RGB")
    bg = Image.new("RGB", im.size, im.getpixel((im.width - 1, im.height - 1)))
    box = ImageChops.difference(im, bg).getbbox()
    if box:
        im = im.crop((0, 0, im.width, min(im.height, box[3] + 16)))
    out = dst / png.name
    im.save(out, optimize=True)
    for colours in (256, 128):  # octree keeps the small colour swatches apart
        if out.stat().st_size < 300_000:
            break
        im.quantize(colours, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    print(f"{out}: {im.width}x{im.height}, {out.stat().st_size // 1024} KB")
EOF
