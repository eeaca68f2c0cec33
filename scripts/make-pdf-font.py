#!/usr/bin/env python3
"""Regenerates crates/yuepin-pdf/fonts/NotoSansSC-Yuepin.otf: Noto Sans CJK SC Regular (Debian's
fonts-noto-cjk, SIL OFL 1.1) subset to GB 2312, CJK punctuation, full-width forms, ASCII and every
character of the platform's own text (seed, reference tables, templates and sources), so that a
fresh machine prints Chinese PDFs with no system fonts. Needs `pip install fonttools`.
Usage: scripts/make-pdf-font.py [path/to/NotoSansCJK-Regular.ttc]"""
import glob, os, subprocess, sys, tempfile
from fontTools.ttLib import TTCollection

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ttc = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.update(chr(c) for c in range(0x20, 0x7F))
chars.update(chr(c) for c in range(0x3000, 0x3040))
chars.update(chr(c) for c in range(0xFF01, 0xFF5F))
chars.update("·—–…‘’“”•×÷¥€℃№")
shared = os.path.join(os.path.dirname(root), "shared")
for pattern in [shared + "/seed/*", shared + "/reference/**/*"] + [
    root + "/crates/**/*." + ext for ext in ("rs", "html", "yaml", "toml", "csv", "json")
]:
    for path in glob.glob(pattern, recursive=True):
        if os.path.isfile(path):
            try:
                chars.update(open(path, encoding="utf-8").read())
            except (UnicodeDecodeError, OSError):
                pass
chars = {c for c in chars if ord(c) >= 0x20}
with tempfile.TemporaryDirectory() as tmp:
    sc = os.path.join(tmp, "sc.otf")
    fonts = TTCollection(ttc).fonts
    [font] = [f for f in fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC"]
    font.save(sc)
    text = os.path.join(tmp, "chars.txt")
    open(text, "w", encoding="utf-8").write("".join(sorted(chars)))
    out = os.path.join(root, "crates/yuepin-pdf/fonts/NotoSansSC-Yuepin.otf")
    subprocess.run(["pyftsubset", sc, "--text-file=" + text, "--output-file=" + out,
                    "--no-hinting", "--name-IDs=*", "--name-legacy"], check=True)
print(f"{len(chars)} characters -> crates/yuepin-pdf/fonts/NotoSansSC-Yuepin.otf")
