#!/usr/bin/env bash
# Regenerates crates/dakoku-platforms/assets/menu-font.otf: the glyphs the LINE WORKS rich
# menu labels need, cut from Noto Sans CJK JP Bold (SIL Open Font License 1.1, see
# menu-font-LICENSE.txt). Needs Debian's fonts-noto-cjk package and Python's fonttools.
# Add characters to TEXT when a label changes.
set -euo pipefail
TEXT="出勤退勤休憩開始終了上班下班休息开始结束"
FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc
OUT="$(dirname "$0")/../crates/dakoku-platforms/assets/menu-font.otf"
python3 -m fontTools.subset "$FONT" --font-number=0 --text="$TEXT" --unicodes="U+0020-007E" \
    --output-file="$OUT" --layout-features='' --no-hinting --desubroutinize
echo "wrote $OUT"
